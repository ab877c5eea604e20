//! Built-in roles and what they may do. Their permissions live in code, not in rows, so a new
//! permission reaches owners and admins with the release that introduces it; custom roles keep
//! their permissions in `role_permissions`.

use agora_kernel::auth::perm;
use agora_kernel::auth::PermissionMarker;

/// A built-in role: its key (stable, in the API; its display name is in the `roles` row) and its
/// permissions.
pub struct BuiltInRole {
    pub key: &'static str,
    pub permissions: &'static [&'static str],
}

/// The role that may do everything, including what no other role may: change owners and how
/// the shop's staff sign in.
pub const OWNER: &str = "owner";

pub static BUILT_IN_ROLES: &[BuiltInRole] = &[
    BuiltInRole { key: OWNER, permissions: perm::ALL },
    BuiltInRole { key: "admin", permissions: perm::ALL },
    BuiltInRole {
        key: "catalog_manager",
        permissions: &[
            perm::ShopRead::NAME,
            perm::CatalogRead::NAME,
            perm::CatalogManage::NAME,
            perm::InventoryRead::NAME,
            perm::InventoryManage::NAME,
            perm::PricingRead::NAME,
            perm::PricingManage::NAME,
        ],
    },
    BuiltInRole {
        key: "order_manager",

        permissions: &[
            perm::ShopRead::NAME,
            perm::OrdersManage::NAME,
            perm::CustomersRead::NAME,
            perm::CatalogRead::NAME,
            // Order managers take phone orders: they hold, commit and release stock.
            perm::InventoryRead::NAME,
            perm::InventoryManage::NAME,
            perm::PricingRead::NAME,
        ],
    },
    BuiltInRole {
        key: "support",

        permissions: &[
            perm::ShopRead::NAME,
            perm::CustomersRead::NAME,
            perm::NotificationsManage::NAME,
            perm::CatalogRead::NAME,
            perm::InventoryRead::NAME,
            perm::PricingRead::NAME,
            // Support moves customers into groups (VIP, staff) on request.
            perm::CustomersManage::NAME,
        ],
    },
    BuiltInRole { key: "read_only", permissions: &[perm::ShopRead::NAME] },
];

pub fn built_in(key: &str) -> Option<&'static BuiltInRole> {
    BUILT_IN_ROLES.iter().find(|r| r.key == key)
}
