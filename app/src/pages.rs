//! One routed page per file, named `<Feature>Page`.

pub mod account;
pub mod agents;
pub mod audit;
pub mod credential;
pub mod credentials;
pub mod customer;
pub mod customers;
pub mod device;
pub mod devices;
pub mod discovery;
pub mod groups;
pub mod home;
pub mod import;
pub mod imports;
pub mod login;
pub mod not_found;
pub mod service;
pub mod services;
pub mod site;
pub mod sites;
pub mod user;
pub mod users;
