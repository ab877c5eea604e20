//! The API's areas and where they are mounted, spelled once: the composition root mounts
//! modules under these prefixes, and middleware (tenant resolution, authentication, rate limits)
//! tells a request's audience from them.

/// Every versioned API route lives under this prefix.
pub const API: &str = "/api/v1";
/// The storefront: shoppers, anonymous or signed in as customers.
pub const STORE: &str = "/api/v1/store";
/// The shop's back office: staff.
pub const ADMIN: &str = "/api/v1/admin";
/// The platform: operators running every shop.
pub const PLATFORM: &str = "/api/v1/platform";

/// Who an API route serves, told by its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    Store,
    Admin,
    Platform,
}

impl Area {
    pub const ALL: [Area; 3] = [Area::Store, Area::Admin, Area::Platform];

    /// Where the area is mounted.
    pub const fn prefix(self) -> &'static str {
        match self {
            Area::Store => STORE,
            Area::Admin => ADMIN,
            Area::Platform => PLATFORM,
        }
    }

    /// The area a path belongs to: `/api/v1/admin/x` is admin, `/api/v1/adminx` and the bare
    /// prefix are nothing.
    pub fn of(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|area| within(path, area.prefix()))
    }

    /// The path below the area's prefix (`/me` for `/api/v1/admin/me`), if it is in this area.
    pub fn rest(self, path: &str) -> Option<&str> {
        path.strip_prefix(self.prefix()).filter(|rest| rest.starts_with('/'))
    }

    /// The area's own path for `rest` (`Area::Admin.path("/webhooks")`).
    pub fn path(self, rest: &str) -> String {
        format!("{}{rest}", self.prefix())
    }

    /// Whether its requests belong to a shop (store and admin do; platform serves every shop).
    pub const fn is_tenant(self) -> bool {
        matches!(self, Area::Store | Area::Admin)
    }
}

/// Whether `path` is below the versioned API (`/api/v1/…`).
pub fn is_api(path: &str) -> bool {
    within(path, API)
}

fn within(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_belongs_to_the_area_whose_prefix_it_continues() {
        assert_eq!(Area::of("/api/v1/store/shop"), Some(Area::Store));
        assert_eq!(Area::of("/api/v1/admin/me"), Some(Area::Admin));
        assert_eq!(Area::of("/api/v1/platform/tenants"), Some(Area::Platform));
        assert_eq!(Area::of("/api/v1/adminx/me"), None);
        assert_eq!(Area::of("/api/v1/admin"), None);
        assert_eq!(Area::of("/healthz"), None);
        assert_eq!(Area::Admin.rest("/api/v1/admin/me"), Some("/me"));
        assert_eq!(Area::Admin.rest("/api/v1/store/me"), None);
        assert!(is_api("/api/v1/anything"));
        assert!(!is_api("/api/openapi.json"));
    }
}
