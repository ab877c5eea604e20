//! Text-backed enums: the states of a thing (a product's status, a webhook endpoint's trigger)
//! as a Rust enum in code and a `text` column with a `CHECK` in the database. Per the conventions
//! there are no Postgres enum types in tenant schemas: diesel caches a type's OID per connection
//! and a per-schema type would resolve to another tenant's.
//!
//! ```ignore
//! agora_kernel::text_enum! {
//!     /// Whether shoppers can see and buy a product.
//!     pub enum ProductStatus {
//!         /// Being prepared; not in the storefront.
//!         Draft = "draft",
//!         Active = "active",
//!     }
//! }
//! // In the migration: status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active'))
//! assert_eq!(ProductStatus::sql_check("status"), "CHECK (status IN ('draft', 'active'))");
//! ```
//!
//! The macro gives `ALL`, `as_str`, `parse`, `Display`, `FromStr` (error: [`UnknownValue`]), serde
//! as the text, diesel `ToSql`/`FromSql` over `text` (a value the code does not know is an error,
//! not a panic), a paperclip and a JSON schema listing the values, and [`sql_check`]'s text for
//! the migration. The crate using it must depend on `diesel` (its derives name it).

use std::fmt;

/// What every `text_enum!` type is, for code generic over them (sort keys, filters).
pub trait TextEnum: Copy + Eq + Send + Sync + 'static {
    /// Every value as stored and sent, in declaration order.
    const VALUES: &'static [&'static str];
    fn as_text(self) -> &'static str;
    fn from_text(raw: &str) -> Option<Self>;
}

/// A text that is none of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub value: String,
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not one of: {}", self.value, self.expected.join(", "))
    }
}

impl std::error::Error for UnknownValue {}

impl UnknownValue {
    /// Keeps at most a short prefix of what a client sent, so an error message cannot be used to
    /// echo a large payload back.
    pub fn new(value: &str, expected: &'static [&'static str]) -> Self {
        Self { value: value.chars().take(40).collect(), expected }
    }
}

/// `CHECK (column IN ('a', 'b'))` for a migration (quotes in values are doubled, as SQL wants).
pub fn sql_check(column: &str, values: &[&str]) -> String {
    let list: Vec<String> = values.iter().map(|v| format!("'{}'", v.replace('\'', "''"))).collect();
    format!("CHECK ({column} IN ({}))", list.join(", "))
}

/// See [the module docs](crate::enums).
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, $crate::__private::diesel::expression::AsExpression, $crate::__private::diesel::deserialize::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        // Not every type uses every helper; the macro should not make its user's build warn.
        #[allow(dead_code)]
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every value as stored and sent, in declaration order.
            pub const VALUES: &'static [&'static str] = &[$($text),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(raw: &str) -> ::core::option::Option<Self> {
                match raw {
                    $($text => ::core::option::Option::Some($name::$variant),)+
                    _ => ::core::option::Option::None,
                }
            }

            /// The `CHECK` constraint a migration puts on the column that stores this enum.
            pub fn sql_check(column: &str) -> ::std::string::String {
                $crate::enums::sql_check(column, Self::VALUES)
            }
        }

        impl $crate::enums::TextEnum for $name {
            const VALUES: &'static [&'static str] = $name::VALUES;
            fn as_text(self) -> &'static str {
                self.as_str()
            }
            fn from_text(raw: &str) -> ::core::option::Option<Self> {
                Self::parse(raw)
            }
        }

        impl ::core::fmt::Display for $name {
            // `pad`, not `write_str`: a table (`{:<12}`) lines up with enum values too.
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::enums::UnknownValue;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                Self::parse(s).ok_or_else(|| $crate::enums::UnknownValue::new(s, Self::VALUES))
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                let raw = <::std::borrow::Cow<'de, str> as $crate::__private::serde::Deserialize<'de>>::deserialize(d)?;
                raw.parse().map_err(<D::Error as $crate::__private::serde::de::Error>::custom)
            }
        }

        impl $crate::__private::diesel::serialize::ToSql<$crate::__private::diesel::sql_types::Text, $crate::__private::diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut $crate::__private::diesel::serialize::Output<'b, '_, $crate::__private::diesel::pg::Pg>,
            ) -> $crate::__private::diesel::serialize::Result {
                <str as $crate::__private::diesel::serialize::ToSql<
                    $crate::__private::diesel::sql_types::Text,
                    $crate::__private::diesel::pg::Pg,
                >>::to_sql(self.as_str(), out)
            }
        }

        impl $crate::__private::diesel::deserialize::FromSql<$crate::__private::diesel::sql_types::Text, $crate::__private::diesel::pg::Pg> for $name {
            fn from_sql(
                bytes: $crate::__private::diesel::pg::PgValue<'_>,
            ) -> $crate::__private::diesel::deserialize::Result<Self> {
                let raw = <::std::string::String as $crate::__private::diesel::deserialize::FromSql<
                    $crate::__private::diesel::sql_types::Text,
                    $crate::__private::diesel::pg::Pg,
                >>::from_sql(bytes)?;
                ::core::result::Result::Ok(raw.parse::<$name>()?)
            }
        }

        impl $crate::__private::paperclip::v2::schema::Apiv2Schema for $name {
            fn raw_schema() -> $crate::__private::paperclip::v2::models::DefaultSchemaRaw {
                $crate::__private::paperclip::v2::models::DefaultSchemaRaw {
                    data_type: ::core::option::Option::Some($crate::__private::paperclip::v2::models::DataType::String),
                    enum_: Self::VALUES.iter().map(|v| $crate::__private::serde_json::Value::from(*v)).collect(),
                    ..::core::default::Default::default()
                }
            }
        }

        impl $crate::__private::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(stringify!($name))
            }
            fn json_schema(_: &mut $crate::__private::schemars::SchemaGenerator) -> $crate::__private::schemars::Schema {
                $crate::__private::schemars::json_schema!({ "type": "string", "enum": Self::VALUES })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::text_enum! {
        /// A product's status, as the catalog will have it.
        pub enum ProbeStatus {
            /// Not in the storefront yet.
            Draft = "draft",
            Active = "active",
            Archived = "archived",
        }
    }

    crate::text_enum! {
        enum Quoted { Odd = "it's" }
    }

    #[test]
    fn values_parse_print_and_serialize_as_their_text() {
        assert_eq!(ProbeStatus::ALL, &[ProbeStatus::Draft, ProbeStatus::Active, ProbeStatus::Archived]);
        for status in ProbeStatus::ALL {
            assert_eq!(status.as_str().parse::<ProbeStatus>(), Ok(*status));
            assert_eq!(serde_json::to_value(status).unwrap(), serde_json::json!(status.as_str()));
        }
        assert_eq!(ProbeStatus::Active.to_string(), "active");
        assert_eq!(format!("[{:<8}]", ProbeStatus::Draft), "[draft   ]");
        let err = "Active".parse::<ProbeStatus>().unwrap_err();
        assert_eq!(err.to_string(), "\"Active\" is not one of: draft, active, archived");
        let err = serde_json::from_str::<ProbeStatus>("\"deleted\"").unwrap_err();
        assert!(err.to_string().contains("not one of: draft, active, archived"), "{err}");
        assert_eq!(super::UnknownValue::new(&"x".repeat(1000), &[]).value.len(), 40);
    }

    #[test]
    fn the_check_constraint_lists_every_value() {
        assert_eq!(ProbeStatus::sql_check("status"), "CHECK (status IN ('draft', 'active', 'archived'))");
        assert_eq!(Quoted::sql_check("q"), "CHECK (q IN ('it''s'))");
        assert_eq!(Quoted::Odd.as_str(), "it's");
    }

    #[test]
    fn both_schemas_list_the_values() {
        use paperclip::v2::schema::Apiv2Schema;
        let raw = serde_json::to_value(<ProbeStatus as Apiv2Schema>::raw_schema()).unwrap();
        assert_eq!(raw, serde_json::json!({"type": "string", "enum": ["draft", "active", "archived"]}));
        let schema = serde_json::to_value(schemars::schema_for!(ProbeStatus)).unwrap();
        assert_eq!(schema["enum"], serde_json::json!(["draft", "active", "archived"]));
    }
}
