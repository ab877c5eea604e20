//! Helpers shared by the kernel's integration tests (each test file uses some of them).
#![allow(dead_code)]

pub mod moto;
