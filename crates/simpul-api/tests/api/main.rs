//! The API's integration suite, one binary: every request goes through `router(...)` with
//! `oneshot`, against a fresh SQLite store per test.

mod helpers;

mod bad_input;
mod keluarga;
mod ops;
mod penduduk;
mod problems;
mod verifikasi;
mod wilayah;
