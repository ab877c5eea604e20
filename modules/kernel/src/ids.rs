//! Typed ids: `typed_id!(pub ProductId)` makes a newtype over a UUID so a `ProductId` can never be
//! passed where an `OrderId` is wanted.
//!
//! What the macro gives the type:
//! - `ProductId::new_v7()` (time-ordered, index-friendly), `From<Uuid>` both ways, `as_uuid()`;
//! - `Display` / `FromStr` as the plain UUID (`0190…`), serde as the plain UUID string, so an
//!   `actix_web::web::Path<ProductId>` rejects a malformed id like any other path parameter;
//! - diesel `ToSql`/`FromSql` over `uuid`, so a `uuid` column reads straight into it;
//! - a paperclip and a JSON schema: a string with format `uuid`.
//!
//! The crate that uses the macro must depend on `diesel` (its derives name it); everything else
//! comes through the kernel.

/// See [the module docs](crate::ids).
///
/// ```ignore
/// agora_kernel::typed_id! {
///     /// A product in the catalog.
///     pub ProductId
/// }
/// ```
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $vis:vis $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, $crate::__private::diesel::expression::AsExpression, $crate::__private::diesel::deserialize::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        $vis struct $name($crate::__private::uuid::Uuid);

        // Not every type uses every helper; the macro should not make its user's build warn.
        #[allow(dead_code)]
        impl $name {
            /// A new time-ordered id (UUIDv7).
            pub fn new_v7() -> Self {
                Self($crate::model::new_id())
            }

            pub const fn from_uuid(id: $crate::__private::uuid::Uuid) -> Self {
                Self(id)
            }

            pub const fn as_uuid(&self) -> $crate::__private::uuid::Uuid {
                self.0
            }
        }

        impl ::core::convert::From<$crate::__private::uuid::Uuid> for $name {
            fn from(id: $crate::__private::uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl ::core::convert::From<$name> for $crate::__private::uuid::Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::__private::uuid::Error;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::__private::serde::Serialize::serialize(&self.0, s)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                <$crate::__private::uuid::Uuid as $crate::__private::serde::Deserialize<'de>>::deserialize(d).map(Self)
            }
        }

        impl $crate::__private::diesel::serialize::ToSql<$crate::__private::diesel::sql_types::Uuid, $crate::__private::diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut $crate::__private::diesel::serialize::Output<'b, '_, $crate::__private::diesel::pg::Pg>,
            ) -> $crate::__private::diesel::serialize::Result {
                <$crate::__private::uuid::Uuid as $crate::__private::diesel::serialize::ToSql<
                    $crate::__private::diesel::sql_types::Uuid,
                    $crate::__private::diesel::pg::Pg,
                >>::to_sql(&self.0, out)
            }
        }

        impl $crate::__private::diesel::deserialize::FromSql<$crate::__private::diesel::sql_types::Uuid, $crate::__private::diesel::pg::Pg> for $name {
            fn from_sql(
                bytes: $crate::__private::diesel::pg::PgValue<'_>,
            ) -> $crate::__private::diesel::deserialize::Result<Self> {
                <$crate::__private::uuid::Uuid as $crate::__private::diesel::deserialize::FromSql<
                    $crate::__private::diesel::sql_types::Uuid,
                    $crate::__private::diesel::pg::Pg,
                >>::from_sql(bytes)
                .map(Self)
            }
        }

        impl $crate::__private::paperclip::v2::schema::TypedData for $name {
            fn data_type() -> $crate::__private::paperclip::v2::models::DataType {
                $crate::__private::paperclip::v2::models::DataType::String
            }
            fn format() -> ::core::option::Option<$crate::__private::paperclip::v2::models::DataTypeFormat> {
                ::core::option::Option::Some($crate::__private::paperclip::v2::models::DataTypeFormat::Uuid)
            }
        }

        impl $crate::__private::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(stringify!($name))
            }
            fn json_schema(_: &mut $crate::__private::schemars::SchemaGenerator) -> $crate::__private::schemars::Schema {
                $crate::__private::schemars::json_schema!({ "type": "string", "format": "uuid" })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::typed_id! {
        /// An id only these tests use.
        pub ProbeId
    }
    crate::typed_id!(OtherId);

    #[test]
    fn ids_are_v7_and_read_and_write_as_plain_uuids() {
        let id = ProbeId::new_v7();
        assert_eq!(id.as_uuid().get_version_num(), 7);
        assert_eq!(id.to_string().parse::<ProbeId>(), Ok(id));
        assert!("not-a-uuid".parse::<ProbeId>().is_err());
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", id.as_uuid()));
        assert_eq!(serde_json::from_str::<ProbeId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<ProbeId>("\"42\"").is_err());
        let other = OtherId::from(uuid::Uuid::from(id));
        assert_eq!(other.as_uuid(), id.as_uuid(), "converting between kinds is explicit, through the uuid");
    }

    #[test]
    fn ids_are_uuid_strings_in_both_schemas() {
        use paperclip::v2::schema::Apiv2Schema;
        let raw = serde_json::to_value(<ProbeId as Apiv2Schema>::raw_schema()).unwrap();
        assert_eq!(raw, serde_json::json!({"type": "string", "format": "uuid"}));
        let schema = serde_json::to_value(schemars::schema_for!(ProbeId)).unwrap();
        assert_eq!(schema["format"], "uuid");
    }
}
