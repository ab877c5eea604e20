//! Integration tests: the real app over real PostgreSQL (and Redis where Redis is under test).
//! One binary for all of them keeps link time down on small machines.

// Tests may panic: an unwrap here is an assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod attacks_limits;
mod attacks_links;
mod attacks_secrets;
mod attacks_sso;
mod bad_input;
mod cache;
mod cart;
mod cart_cache;
mod catalog;
mod catalog_cache;
mod catalog_media;
mod catalog_publication;
mod catalog_tasks;
mod cli;
mod customer_groups;
mod demo;
mod embedded_supervision;
mod gdpr;
mod idempotency;
mod identity;
mod inventory;
mod inventory_alerts;
mod inventory_import;
mod isolation;
mod jobs;
mod mfa;
// moto's S3-compatible server, as the kernel's storage and image suites start it.
#[path = "../../modules/kernel/tests/support/moto.rs"]
mod moto;
mod my_permissions;
mod notifications;
mod observability;
mod oidc;
mod openapi;
mod operations;
mod operators;
mod price_lists;
mod pricing_tax;
mod promotions;
mod rate_limit;
mod secrets;
mod seo;
mod sessions;
mod shipping;
mod shop_branding;
mod tasks;
mod tenancy;
mod thumbnails;
mod web;
mod webhooks;
