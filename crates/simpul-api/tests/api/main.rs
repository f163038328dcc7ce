//! The API's integration suite, one binary: every request goes through `router(...)` with
//! `oneshot`, against a fresh SQLite store per test.

mod helpers;

mod alerts;
mod authz_matrix;
mod bad_input;
mod keluarga;
mod lampid;
mod ledger;
mod oauth;
mod ops;
mod penduduk;
mod problems;
mod sign_in;
mod verifikasi;
mod wilayah;
