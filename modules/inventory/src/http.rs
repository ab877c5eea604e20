//! HTTP face of the inventory, under `/api/v1/admin/inventory`: locations, stock per variant,
//! adjustments and the ledger, manual holds (reservations over HTTP), transfers, settings.
//!
//! Reads need `inventory.read`, changes `inventory.manage`. Unsafe POSTs honour
//! `Idempotency-Key` (the kernel's middleware): repeating a release or commit with the same key
//! replays the first answer.

use crate::{
    Adjustment, ExtendReservation, InventoryModule, InventorySettings, Location, LocationId, LocationList,
    LocationPatch, NewAdjustment, NewHold, NewLocation, NewTransfer, PickupLocationList, Reservation, ReservationId,
    StockCount, StockSettingsInput, Transfer, TransferId, TransferStatus, VariantId, VariantStock,
};
use agora_kernel::areas::Area;
use agora_kernel::lists::{ListQuery, NewestFirst, OldestFirst, Page};
use agora_kernel::{perm, Acting, ApiError, Authorized, Created, IfMatch, TenantContext, Versioned};
use chrono::{DateTime, Utc};
use paperclip::actix::{api_v2_operation, web, NoContent};

/// Where the module is mounted in the back office (also for `Location` headers).
pub(crate) const SCOPE: &str = "/inventory";

fn acting<P: agora_kernel::auth::PermissionMarker>(auth: &Authorized<P>) -> Acting {
    Acting::new(auth.actor(), None)
}

// --- Locations ---------------------------------------------------------------------------------

/// Add a stock location (a warehouse, a store).
#[api_v2_operation(tags(Admin), operation_id = "createStockLocation")]
async fn create_location(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    body: web::Json<NewLocation>,
) -> Result<Created<Location>, ApiError> {
    let location = module.create_location(&tenant, body.into_inner(), &acting(&auth)).await?;
    let path = Area::Admin.path(&format!("{SCOPE}/locations/{}", location.id));
    let version = location.version;
    Ok(Created::located(location, version, path))
}

/// The shop's stock locations, first choice first.
#[api_v2_operation(tags(Admin), operation_id = "listStockLocations")]
async fn list_locations(
    _auth: Authorized<perm::InventoryRead>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
) -> Result<web::Json<LocationList>, ApiError> {
    Ok(web::Json(LocationList { items: module.locations(&tenant).await? }))
}

/// One stock location, with its version (ETag).
#[api_v2_operation(tags(Admin), operation_id = "getStockLocation")]
async fn get_location(
    _auth: Authorized<perm::InventoryRead>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    id: web::Path<LocationId>,
) -> Result<Versioned<Location, 200>, ApiError> {
    let location = module.location(&tenant, id.into_inner()).await?;
    let version = location.version;
    Ok(Versioned::new(location, version))
}

/// Change a stock location; send `If-Match` with the ETag you read.
#[api_v2_operation(tags(Admin), operation_id = "updateStockLocation")]
async fn update_location(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<InventoryModule>,
    id: web::Path<LocationId>,
    body: web::Json<LocationPatch>,
) -> Result<Versioned<Location, 200>, ApiError> {
    let location =
        module.update_location(&tenant, id.into_inner(), body.into_inner(), if_match.0, &acting(&auth)).await?;
    let version = location.version;
    Ok(Versioned::new(location, version))
}

/// Delete a stock location that holds no stock.
#[api_v2_operation(tags(Admin), operation_id = "deleteStockLocation")]
async fn delete_location(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<InventoryModule>,
    id: web::Path<LocationId>,
) -> Result<NoContent, ApiError> {
    module.delete_location(&tenant, id.into_inner(), if_match.0, &acting(&auth)).await?;
    Ok(NoContent)
}

// --- Stock per variant -------------------------------------------------------------------------

/// A variant's stock across the shop's locations, and how it is counted and sold.
#[api_v2_operation(tags(Admin), operation_id = "getVariantStock")]
async fn get_variant_stock(
    _auth: Authorized<perm::InventoryRead>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    variant: web::Path<VariantId>,
) -> Result<web::Json<VariantStock>, ApiError> {
    Ok(web::Json(module.variant_stock(&tenant, variant.into_inner()).await?))
}

/// Record a stock count at a location: on hand becomes the count (the difference goes into the
/// ledger as `counted`).
#[api_v2_operation(tags(Admin), operation_id = "countVariantStock")]
async fn count_stock(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    path: web::Path<(VariantId, LocationId)>,
    body: web::Json<StockCount>,
) -> Result<web::Json<VariantStock>, ApiError> {
    let (variant, location) = path.into_inner();
    Ok(web::Json(module.count_stock(&tenant, variant, location, body.into_inner(), &acting(&auth)).await?))
}

/// Set how a variant is counted and sold (tracking, out-of-stock policy, low-stock threshold);
/// `If-Match` with `settings_version` guards against overwriting another change.
#[api_v2_operation(tags(Admin), operation_id = "setVariantStockSettings")]
async fn set_stock_settings(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<InventoryModule>,
    variant: web::Path<VariantId>,
    body: web::Json<StockSettingsInput>,
) -> Result<web::Json<VariantStock>, ApiError> {
    let stock =
        module.set_stock_settings(&tenant, variant.into_inner(), body.into_inner(), if_match.0, &acting(&auth)).await?;
    Ok(web::Json(stock))
}

/// A variant's ledger: every change to its on-hand stock, newest first.
#[api_v2_operation(tags(Admin), operation_id = "listVariantLedger")]
async fn ledger(
    _auth: Authorized<perm::InventoryRead>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    variant: web::Path<VariantId>,
    page: ListQuery<NewestFirst>,
) -> Result<web::Json<Page<Adjustment>>, ApiError> {
    let keyset = page.keyset::<DateTime<Utc>>()?;
    let rows = module.ledger(&tenant, variant.into_inner(), keyset.after, keyset.fetch_limit()).await?;
    Ok(web::Json(keyset.page(rows, |a| (a.created_at, a.id))))
}

/// Change on-hand stock with a reason (received, damaged, counted, returned, correction).
#[api_v2_operation(tags(Admin), operation_id = "createStockAdjustment")]
async fn adjust(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    body: web::Json<NewAdjustment>,
) -> Result<Created<Adjustment>, ApiError> {
    let adjustment = module.adjust(&tenant, body.into_inner(), &acting(&auth)).await?;
    let path = Area::Admin.path(&format!("{SCOPE}/variants/{}/ledger", adjustment.variant_id));
    Ok(Created::optional(adjustment, None).with_location(path))
}

// --- Reservations (manual holds) ---------------------------------------------------------------

/// Hold stock for a phone order or a customer until it expires (the same reservation checkout
/// makes). 409 `out-of-stock` naming the line when there is not enough available.
#[api_v2_operation(tags(Admin), operation_id = "createStockHold")]
async fn create_hold(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    body: web::Json<NewHold>,
) -> Result<Created<Reservation>, ApiError> {
    let reservation = module.hold(&tenant, body.into_inner(), &acting(&auth)).await?;
    let path = Area::Admin.path(&format!("{SCOPE}/reservations/{}", reservation.id));
    let version = reservation.version;
    Ok(Created::located(reservation, version, path))
}

/// Reservations in force, soonest to expire first.
#[api_v2_operation(tags(Admin), operation_id = "listStockReservations")]
async fn list_reservations(
    _auth: Authorized<perm::InventoryRead>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    page: ListQuery<OldestFirst>,
) -> Result<web::Json<Page<Reservation>>, ApiError> {
    let keyset = page.keyset::<DateTime<Utc>>()?;
    let rows = module.reservations_in_force(&tenant, keyset.after, keyset.fetch_limit()).await?;
    Ok(web::Json(keyset.page(rows, |r| (r.expires_at, r.id.as_uuid()))))
}

/// One reservation, whatever its status.
#[api_v2_operation(tags(Admin), operation_id = "getStockReservation")]
async fn get_reservation(
    _auth: Authorized<perm::InventoryRead>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    id: web::Path<ReservationId>,
) -> Result<Versioned<Reservation, 200>, ApiError> {
    let reservation = module.reservation(&tenant, id.into_inner()).await?;
    let version = reservation.version;
    Ok(Versioned::new(reservation, version))
}

/// Let a reservation go: its stock is available again. 409 when it is no longer in force.
#[api_v2_operation(tags(Admin), operation_id = "releaseStockReservation")]
async fn release_reservation(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    id: web::Path<ReservationId>,
) -> Result<Versioned<Reservation, 200>, ApiError> {
    let reservation = module.release_hold(&tenant, id.into_inner(), &acting(&auth)).await?;
    let version = reservation.version;
    Ok(Versioned::new(reservation, version))
}

/// Commit a reservation (the order is paid): its stock leaves on hand (`sold` in the ledger).
/// 409 when it expired, was released or committed already.
#[api_v2_operation(tags(Admin), operation_id = "commitStockReservation")]
async fn commit_reservation(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    id: web::Path<ReservationId>,
) -> Result<Versioned<Reservation, 200>, ApiError> {
    let reservation = module.commit_hold(&tenant, id.into_inner(), &acting(&auth)).await?;
    let version = reservation.version;
    Ok(Versioned::new(reservation, version))
}

/// Move a reservation in force's expiry.
#[api_v2_operation(tags(Admin), operation_id = "extendStockReservation")]
async fn extend_reservation(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    id: web::Path<ReservationId>,
    body: web::Json<ExtendReservation>,
) -> Result<Versioned<Reservation, 200>, ApiError> {
    let reservation = module.extend_hold(&tenant, id.into_inner(), body.into_inner(), &acting(&auth)).await?;
    let version = reservation.version;
    Ok(Versioned::new(reservation, version))
}

// --- Transfers ---------------------------------------------------------------------------------

/// Send stock from one location to another: it leaves the first at once (in transit).
#[api_v2_operation(tags(Admin), operation_id = "createStockTransfer")]
async fn create_transfer(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    body: web::Json<NewTransfer>,
) -> Result<Created<Transfer>, ApiError> {
    let transfer = module.create_transfer(&tenant, body.into_inner(), &acting(&auth)).await?;
    let path = Area::Admin.path(&format!("{SCOPE}/transfers/{}", transfer.id));
    let version = transfer.version;
    Ok(Created::located(transfer, version, path))
}

/// The shop's transfers, newest first.
#[api_v2_operation(tags(Admin), operation_id = "listStockTransfers")]
async fn list_transfers(
    _auth: Authorized<perm::InventoryRead>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    page: ListQuery<NewestFirst>,
) -> Result<web::Json<Page<Transfer>>, ApiError> {
    let keyset = page.keyset::<DateTime<Utc>>()?;
    let rows = module.transfers(&tenant, keyset.after, keyset.fetch_limit()).await?;
    Ok(web::Json(keyset.page(rows, |t| (t.created_at, t.id.as_uuid()))))
}

/// One transfer, with its version (ETag).
#[api_v2_operation(tags(Admin), operation_id = "getStockTransfer")]
async fn get_transfer(
    _auth: Authorized<perm::InventoryRead>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    id: web::Path<TransferId>,
) -> Result<Versioned<Transfer, 200>, ApiError> {
    let transfer = module.transfer(&tenant, id.into_inner()).await?;
    let version = transfer.version;
    Ok(Versioned::new(transfer, version))
}

/// Receive a transfer: its stock arrives at the destination. 409 when it is closed already.
#[api_v2_operation(tags(Admin), operation_id = "receiveStockTransfer")]
async fn receive_transfer(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<InventoryModule>,
    id: web::Path<TransferId>,
) -> Result<Versioned<Transfer, 200>, ApiError> {
    let transfer =
        module.close_transfer(&tenant, id.into_inner(), TransferStatus::Received, if_match.0, &acting(&auth)).await?;
    let version = transfer.version;
    Ok(Versioned::new(transfer, version))
}

/// Cancel a transfer: its stock returns to where it came from. 409 when it is closed already.
#[api_v2_operation(tags(Admin), operation_id = "cancelStockTransfer")]
async fn cancel_transfer(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<InventoryModule>,
    id: web::Path<TransferId>,
) -> Result<Versioned<Transfer, 200>, ApiError> {
    let transfer =
        module.close_transfer(&tenant, id.into_inner(), TransferStatus::Cancelled, if_match.0, &acting(&auth)).await?;
    let version = transfer.version;
    Ok(Versioned::new(transfer, version))
}

// --- Settings ----------------------------------------------------------------------------------

/// The shop's inventory settings (how long a reservation holds by default).
#[api_v2_operation(tags(Admin), operation_id = "getInventorySettings")]
async fn get_settings(
    _auth: Authorized<perm::InventoryRead>,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
) -> Result<Versioned<InventorySettings, 200>, ApiError> {
    let (settings, version) = module.settings(&tenant).await?;
    Ok(Versioned::new(settings, version))
}

/// Change the shop's inventory settings; `If-Match` with the ETag you read.
#[api_v2_operation(tags(Admin), operation_id = "updateInventorySettings")]
async fn update_settings(
    auth: Authorized<perm::InventoryManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<InventoryModule>,
    body: web::Json<InventorySettings>,
) -> Result<Versioned<InventorySettings, 200>, ApiError> {
    let (settings, version) = module.update_settings(&tenant, body.into_inner(), if_match.0, &acting(&auth)).await?;
    Ok(Versioned::new(settings, version))
}

/// The stores where shoppers may collect their orders (for the cart's delivery choice).
#[api_v2_operation(tags(Store), operation_id = "listStorePickupLocations")]
async fn store_pickup_locations(
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
) -> Result<web::Json<PickupLocationList>, ApiError> {
    Ok(web::Json(PickupLocationList { items: module.pickup_locations(&tenant).await? }))
}

pub(crate) fn store_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/pickup-locations").route(web::get().to(store_pickup_locations)));
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/locations").route(web::post().to(create_location)).route(web::get().to(list_locations)),
    )
    .service(
        web::resource("/locations/{location_id}")
            .route(web::get().to(get_location))
            .route(web::patch().to(update_location))
            .route(web::delete().to(delete_location)),
    )
    .service(web::resource("/variants/{variant_id}/stock").route(web::get().to(get_variant_stock)))
    .service(web::resource("/variants/{variant_id}/stock/{location_id}").route(web::put().to(count_stock)))
    .service(web::resource("/variants/{variant_id}/settings").route(web::put().to(set_stock_settings)))
    .service(web::resource("/variants/{variant_id}/ledger").route(web::get().to(ledger)))
    .service(web::resource("/adjustments").route(web::post().to(adjust)))
    .service(web::resource("/reservations").route(web::post().to(create_hold)).route(web::get().to(list_reservations)))
    .service(web::resource("/reservations/{reservation_id}").route(web::get().to(get_reservation)))
    .service(web::resource("/reservations/{reservation_id}/release").route(web::post().to(release_reservation)))
    .service(web::resource("/reservations/{reservation_id}/commit").route(web::post().to(commit_reservation)))
    .service(web::resource("/reservations/{reservation_id}/extend").route(web::post().to(extend_reservation)))
    .service(web::resource("/transfers").route(web::post().to(create_transfer)).route(web::get().to(list_transfers)))
    .service(web::resource("/transfers/{transfer_id}").route(web::get().to(get_transfer)))
    .service(web::resource("/transfers/{transfer_id}/receive").route(web::post().to(receive_transfer)))
    .service(web::resource("/transfers/{transfer_id}/cancel").route(web::post().to(cancel_transfer)))
    .service(web::resource("/settings").route(web::get().to(get_settings)).route(web::put().to(update_settings)))
    .service(web::resource("/imports").route(web::post().to(crate::http_csv::import_stock)))
    .service(web::resource("/exports").route(web::post().to(crate::http_csv::export_stock)));
}
