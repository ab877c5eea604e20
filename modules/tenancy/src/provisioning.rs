//! Opening a shop: record → schema → migrations → seed → active.
//!
//! Each step is idempotent, so a provisioning interrupted anywhere (crash, SIGKILL) is finished
//! by running `create` again or by `agora migrate`, which completes every shop still marked
//! `provisioning`.

use crate::events::TenantCreated;
use crate::schema::{tenant_domains, tenants};
use crate::store::{self, ShopSeed};
use crate::{migrate, NewTenant, ShopSettings, ShopSettingsPatch, TenancyError, Tenant, TenantStatus};
use agora_kernel::error::FieldError;
use agora_kernel::events::EventBus;
use agora_kernel::ports::{ShopFounder, ShopOwner};
use agora_kernel::{Acting, Actor, Currency, Database, TenantContext, TenantSchema};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::RunQueryDsl;
use std::sync::Arc;

pub(crate) fn validate_name(name: &str) -> Result<(), FieldError> {
    let len = name.trim().chars().count();
    if len == 0 || len > 200 || name.trim() != name {
        return Err(FieldError::new("name", "1–200 characters without leading or trailing spaces"));
    }
    Ok(())
}

pub(crate) fn valid_locale(tag: &str) -> bool {
    // language (2–3 lowercase letters), optionally -REGION (2 uppercase letters or 3 digits).
    let mut parts = tag.split('-');
    let lang_ok = parts.next().is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    let region_ok = match parts.next() {
        None => true,
        Some(r) => {
            (r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
                || (r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit()))
        }
    };
    lang_ok && region_ok && parts.next().is_none()
}

fn valid_domain(domain: &str) -> bool {
    domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Checked input for provisioning.
pub(crate) struct ValidTenant {
    pub slug: String,
    pub schema: TenantSchema,
    pub name: String,
    pub currency: String,
    pub locales: Vec<String>,
    pub domains: Vec<String>,
    pub owner: Option<ShopOwner>,
}

pub(crate) fn validate(
    new: NewTenant,
    base_domain: &str,
    founder: Option<&Arc<dyn ShopFounder>>,
) -> Result<ValidTenant, TenancyError> {
    let mut errors = Vec::new();
    let schema = TenantSchema::for_slug(&new.slug);
    if schema.is_none() {
        errors.push(FieldError::new(
            "slug",
            "2–40 lowercase letters, digits or '-', starting with a letter and not ending with '-'",
        ));
    }
    if let Err(e) = validate_name(&new.name) {
        errors.push(e);
    }
    let currency = new.default_currency.unwrap_or_else(|| "USD".into());
    if Currency::parse(&currency).is_none() {
        errors.push(FieldError::new("default_currency", "an ISO 4217 code such as EUR"));
    }
    let locales = new.locales.unwrap_or_else(|| vec!["en".into()]);
    if locales.is_empty() {
        errors.push(FieldError::new("locales", "at least one locale"));
    }
    for (i, tag) in locales.iter().enumerate() {
        if !valid_locale(tag) {
            errors.push(FieldError::new(format!("locales[{i}]"), "a BCP 47 tag such as en or de-CH"));
        }
    }
    let mut domains = Vec::new();
    for (i, raw) in new.domains.iter().enumerate() {
        let domain = raw.trim().trim_end_matches('.').to_ascii_lowercase();
        if !valid_domain(&domain) {
            errors.push(FieldError::new(format!("domains[{i}]"), "a host name such as shop.example.com"));
        } else if domain == base_domain || domain.ends_with(&format!(".{base_domain}")) {
            errors.push(FieldError::new(
                format!("domains[{i}]"),
                format!("names under {base_domain} are reserved for shop slugs"),
            ));
        } else if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    match (&new.owner, founder) {
        (None, _) => {}
        (Some(owner), Some(founder)) => errors.extend(
            founder
                .check(owner)
                .into_iter()
                .map(|e| FieldError { field: format!("owner.{}", e.field), message: e.message }),
        ),
        (Some(_), None) => errors.push(FieldError::new("owner", "this server cannot appoint shop owners")),
    }
    let owner = new.owner;
    match (schema, errors.is_empty()) {
        (Some(schema), true) => {
            Ok(ValidTenant { slug: new.slug, schema, name: new.name, currency, locales, domains, owner })
        }
        _ => Err(agora_kernel::CommonError::Invalid(errors).into()),
    }
}

fn unique_violation_on(e: &DieselError) -> Option<String> {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            Some(info.constraint_name().unwrap_or_default().to_string())
        }
        _ => None,
    }
}

pub(crate) async fn create(
    db: &Database,
    bus: &EventBus,
    base_domain: &str,
    founder: Option<&Arc<dyn ShopFounder>>,
    new: NewTenant,
    actor: &Actor,
) -> Result<Tenant, TenancyError> {
    let valid = validate(new, base_domain, founder)?;
    let who = actor.audit_name();
    record(db, &valid, &who).await?;
    let seed = ShopSeed { name: &valid.name, default_currency: &valid.currency, locales: &valid.locales };
    finish(db, bus, founder, &valid.slug, &valid.schema, &seed, &who).await?;
    db.control_tx(async |conn| {
        store::load_tenant(conn, &valid.slug).await?.ok_or(TenancyError::NotFound(valid.slug.clone()))
    })
    .await
}

/// Inserts the tenant row (status `provisioning`) and its domains. An existing shop still being
/// provisioned is taken over; any other existing shop is a conflict.
async fn record(db: &Database, valid: &ValidTenant, who: &str) -> Result<(), TenancyError> {
    let (slug, name, schema_name, domains, who) = (
        valid.slug.clone(),
        valid.name.clone(),
        valid.schema.name().to_string(),
        valid.domains.clone(),
        who.to_string(),
    );
    let owner = valid.owner.clone();
    db.control_tx(async move |conn| {
        if let Some(existing) = store::tenant_row(conn, &slug).await? {
            return if existing.status == TenantStatus::Provisioning {
                Ok(())
            } else {
                Err(TenancyError::SlugTaken(slug))
            };
        }
        let id = agora_kernel::new_id();
        diesel::insert_into(tenants::table)
            .values((
                tenants::id.eq(id),
                tenants::slug.eq(&slug),
                tenants::name.eq(&name),
                tenants::status.eq(TenantStatus::Provisioning),
                tenants::schema_name.eq(&schema_name),
                tenants::created_by.eq(&who),
                tenants::modified_by.eq(&who),
                tenants::owner_email.eq(owner.as_ref().map(|o| o.email.trim().to_string())),
                tenants::owner_name.eq(owner.as_ref().and_then(|o| o.name.clone())),
            ))
            .execute(conn)
            .await
            .map_err(|e| {
                if unique_violation_on(&e).is_some() {
                    TenancyError::SlugTaken(slug.clone())
                } else {
                    e.into()
                }
            })?;
        for domain in &domains {
            diesel::insert_into(tenant_domains::table)
                .values((
                    tenant_domains::domain.eq(domain),
                    tenant_domains::tenant_id.eq(id),
                    tenant_domains::created_by.eq(&who),
                ))
                .execute(conn)
                .await
                .map_err(|e| {
                    if unique_violation_on(&e).is_some() {
                        TenancyError::DomainTaken(domain.clone())
                    } else {
                        e.into()
                    }
                })?;
        }
        Ok(())
    })
    .await
}

/// Migrates the schema, seeds the settings, appoints the owner and activates the shop. Idempotent.
pub(crate) async fn finish(
    db: &Database,
    bus: &EventBus,
    founder: Option<&Arc<dyn ShopFounder>>,
    slug: &str,
    schema: &TenantSchema,
    seed: &ShopSeed<'_>,
    who: &str,
) -> Result<(), TenancyError> {
    let version = migrate::migrate_tenant_schema(db, slug, schema).await?;
    let lookup = slug.to_string();
    let row = db
        .control_tx(async move |conn| Ok::<_, TenancyError>(store::tenant_row(conn, &lookup).await?))
        .await?
        .ok_or_else(|| TenancyError::NotFound(slug.to_string()))?;
    let context = TenantContext { id: row.id, slug: slug.to_string(), schema: schema.clone() };
    let (owner, founder) = (row.owner(), founder.cloned());
    if owner.is_some() && founder.is_none() {
        tracing::warn!(tenant = slug, "the shop names an owner, but this process cannot appoint one");
    }
    let (name, currency, locales, seed_who) =
        (seed.name.to_string(), seed.default_currency.to_string(), seed.locales.to_vec(), who.to_string());
    let acting = Acting::system("provisioning");
    db.in_tenant(&context, &acting, async |tx| {
        let seed = ShopSeed { name: &name, default_currency: &currency, locales: &locales };
        store::seed_shop(tx.conn(), &seed, &seed_who).await?;
        if let (Some(owner), Some(founder)) = (&owner, &founder) {
            founder.appoint(tx, owner).await.map_err(TenancyError::Founding)?;
        }
        Ok::<(), TenancyError>(())
    })
    .await?;
    let (slug, who, bus) = (slug.to_string(), who.to_string(), bus.clone());
    db.control_tx(async move |conn| {
        let row = tenants::table
            .filter(tenants::slug.eq(&slug))
            .select((tenants::id, tenants::name, tenants::status))
            .for_update()
            .first::<(uuid::Uuid, String, TenantStatus)>(conn)
            .await?;
        let opening = row.2 == TenantStatus::Provisioning;
        diesel::update(tenants::table.filter(tenants::id.eq(row.0)))
            .set((
                tenants::status.eq(if opening { TenantStatus::Active } else { row.2 }),
                tenants::schema_version.eq(version),
                tenants::modified_at.eq(diesel::dsl::now),
                tenants::modified_by.eq(&who),
            ))
            .execute(conn)
            .await?;
        if opening {
            bus.publish_platform(conn, &TenantCreated { tenant_id: row.0, slug: slug.clone(), name: row.1 }).await?;
        }
        Ok::<(), TenancyError>(())
    })
    .await
}

/// The settings after `patch`, or every field that is wrong with it.
pub(crate) fn apply_shop_patch(current: &ShopSettings, patch: ShopSettingsPatch) -> Result<ShopSettings, TenancyError> {
    let mut next = current.clone();
    let mut errors = Vec::new();
    if let Some(name) = patch.name {
        match validate_name(&name) {
            Ok(()) => next.name = name,
            Err(e) => errors.push(e),
        }
    }
    if let Some(code) = patch.default_currency {
        match Currency::parse(&code) {
            Some(_) => next.default_currency = code,
            None => errors.push(FieldError::new("default_currency", "an ISO 4217 code such as EUR")),
        }
    }
    if let Some(locales) = patch.locales {
        if locales.is_empty() {
            errors.push(FieldError::new("locales", "at least one locale"));
        }
        for (i, tag) in locales.iter().enumerate() {
            if !valid_locale(tag) {
                errors.push(FieldError::new(format!("locales[{i}]"), "a BCP 47 tag such as en or de-CH"));
            }
        }
        if !locales.contains(&next.default_locale) {
            next.default_locale = <[String]>::first(&locales).cloned().unwrap_or_default();
        }
        next.locales = locales;
    }
    if let Some(locale) = patch.default_locale {
        next.default_locale = locale;
    }
    if !next.locales.contains(&next.default_locale) {
        errors.push(FieldError::new("default_locale", "must be one of locales"));
    }
    if let Some(tz) = patch.timezone {
        let plausible = !tz.is_empty()
            && tz.len() <= 64
            && tz.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
            && (tz == "UTC" || tz.contains('/'));
        if plausible {
            next.timezone = tz;
        } else {
            errors.push(FieldError::new("timezone", "an IANA time zone such as Europe/Berlin"));
        }
    }
    if let Some(colour) = patch.brand_colour {
        match colour.map(|c| c.to_ascii_lowercase()) {
            Some(c) if !valid_colour(&c) => {
                errors.push(FieldError::new("brand_colour", "a colour written #rrggbb, such as #1d4ed8"))
            }
            colour => next.brand_colour = colour,
        }
    }
    if let Some(country) = patch.country {
        match country.map(|c| c.to_ascii_uppercase()) {
            Some(c) if COUNTRIES.binary_search(&c.as_str()).is_err() => {
                errors.push(FieldError::new("country", "an ISO 3166-1 alpha-2 country code such as DE"))
            }
            country => next.country = country,
        }
    }
    if errors.is_empty() {
        Ok(next)
    } else {
        Err(agora_kernel::CommonError::Invalid(errors).into())
    }
}

fn valid_colour(colour: &str) -> bool {
    colour.strip_prefix('#').is_some_and(|hex| hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The officially assigned ISO 3166-1 alpha-2 codes, sorted (Debian's iso-codes).
const COUNTRIES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD",
    "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA",
    "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE",
    "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA",
    "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK",
    "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT",
    "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS",
    "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST",
    "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA",
    "ZM", "ZW",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_country_list_is_sorted_for_its_binary_search() {
        assert!(COUNTRIES.windows(2).all(|w| w[0] < w[1]));
        assert!(COUNTRIES.binary_search(&"DE").is_ok() && COUNTRIES.binary_search(&"XX").is_err());
    }

    fn new(slug: &str) -> NewTenant {
        NewTenant {
            slug: slug.into(),
            name: "Shop".into(),
            default_currency: None,
            locales: None,
            domains: vec![],
            owner: None,
        }
    }

    #[test]
    fn validation_names_every_bad_field() {
        let bad = NewTenant {
            slug: "Bad Slug".into(),
            name: " ".into(),
            default_currency: Some("euro".into()),
            locales: Some(vec!["en".into(), "EN_us".into()]),
            domains: vec!["shop.example.com".into(), "x.localhost".into(), "not a host".into()],
            owner: Some(ShopOwner { email: "owner@example.com".into(), name: None }),
        };
        let Err(TenancyError::Common(agora_kernel::CommonError::Invalid(errors))) = validate(bad, "localhost", None)
        else {
            panic!("expected invalid")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["slug", "name", "default_currency", "locales[1]", "domains[1]", "domains[2]", "owner"]);
    }

    #[test]
    fn defaults_apply() {
        let valid = validate(new("acme"), "localhost", None).unwrap();
        assert_eq!(valid.currency, "USD");
        assert_eq!(valid.locales, ["en"]);
        assert_eq!(valid.schema.name(), "t_acme");
    }
}
