//! The OpenAPI 3.1 document, generated from the handlers' annotations, with the problem
//! code table written into the `ProblemCode` schema's description.

use utoipa::openapi::schema::Schema;
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::{Modify, OpenApi};

use crate::problem::ProblemCode;

use crate::auth::{oauth, session};
use crate::handlers::{
    admin, keluarga, lampid, ledger, ops, penduduk, statistik, verifikasi, wilayah,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "simpul",
        description = "Simpul data kependudukan: registri penduduk, data wilayah Kemendagri, dan \
                       verifikasi NIK tanpa membuka data pribadi. Setiap kesalahan berbentuk \
                       application/problem+json (RFC 9457) dengan `code` yang stabil.",
        license(name = "Apache-2.0")
    ),
    paths(
        wilayah::search, wilayah::show, wilayah::children,
        penduduk::show, penduduk::search,
        keluarga::show,
        verifikasi::single, verifikasi::batch,
        lampid::create, lampid::show, lampid::amend, lampid::step, lampid::queue, lampid::track,
        statistik::population, statistik::religion, statistik::marital_status, statistik::events,
        statistik::service_levels,
        session::sign_in, session::enrol, session::second_factor, session::sign_out,
        oauth::token, oauth::revoke, oauth::jwks,
        admin::accounts, admin::create_account, admin::clients, admin::create_client,
        admin::revoke_client, admin::agreements, admin::put_agreement, admin::alerts,
        admin::acknowledge, admin::access_log,
        ledger::key, ledger::checkpoint, ledger::inclusion, ledger::consistency, ledger::cosign,
        ledger::entries, ledger::access_history,
        ops::healthz, ops::readyz, ops::metrics,
    ),
    components(schemas(crate::problem::Problem, crate::problem::ProblemCode)),
    modifiers(&ProblemTable),
    tags(
        (name = "wilayah", description = "Data wilayah Kemendagri (ODbL)"),
        (name = "registri", description = "Penduduk dan keluarga"),
        (name = "verifikasi", description = "Verifikasi NIK untuk OPD"),
        (name = "lampid", description = "e-LAMPID: kelahiran, kematian, pindah, datang dari kelurahan ke kecamatan ke Dukcapil"),
        (name = "statistik", description = "Statistik penduduk, peristiwa dan layanan, dari jurnal"),
        (name = "sesi", description = "Masuk dengan kata sandi dan TOTP"),
        (name = "oauth", description = "Token akses untuk sistem instansi (client credentials)"),
        (name = "admin", description = "Akun, klien, perjanjian, peringatan"),
        (name = "audit", description = "Log akses data pribadi"),
        (name = "ledger", description = "Ledger tahan-rusak (transparency log RFC 9162): checkpoint bertanda tangan, bukti, saksi"),
        (name = "operasi", description = "Kesehatan dan metrik"),
    )
)]
/// The API's OpenAPI document; served at `/openapi.json` and browsed at `/docs`.
pub struct ApiDoc;

/// Writes the problem code table (code, status, title) into the `ProblemCode` schema, so
/// the published document lists every code a client can receive.
struct ProblemTable;

impl Modify for ProblemTable {
    fn modify(&self, openapi: &mut Document) {
        let Some(schema) = openapi
            .components
            .as_mut()
            .and_then(|components| components.schemas.get_mut("ProblemCode"))
        else {
            return;
        };
        if let RefOr::T(Schema::Object(object)) = schema {
            let mut table = String::from(
                "Kode masalah yang stabil. Setiap jawaban gagal membawa satu kode.\n\n\
                 | code | status | title |\n| --- | --- | --- |\n",
            );
            for code in ProblemCode::ALL {
                table.push_str(&format!(
                    "| `{}` | {} | {} |\n",
                    code.as_str(),
                    code.status().as_u16(),
                    code.title()
                ));
            }
            object.description = Some(table);
        }
    }
}
