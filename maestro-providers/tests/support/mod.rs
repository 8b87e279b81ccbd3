//! Loopback doubles of cloud APIs shared by the provider tests.
#![allow(dead_code)]

pub mod fake_azure;
pub mod fake_digitalocean;
pub mod fake_openstack;
