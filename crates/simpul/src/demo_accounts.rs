//! The demo city's accounts (one per role) and one agency client with its agreement,
//! created when the demo city is seeded, with their credentials printed and written to
//! `<data_dir>/demo-credentials.txt` (owner-readable only). Passwords and the client
//! secret are random per hub: a demo must never ship with a password everyone knows.

use std::fmt::Write as _;
use std::path::Path;

use simpul_api::auth::provision::{self, NewAccount, NewClient};
use simpul_domain::KodeWilayah;
use simpul_domain::wilayah::{RegionDirectory, RegionLevel};
use simpul_identity::PasswordHasher;
use simpul_store::{AgreementRecord, Store};
use zeroize::Zeroizing;

/// The demo agency and its client.
pub const DEMO_AGENCY: &str = "dinsos";
pub const DEMO_CLIENT: &str = "dinsos-bansos";

/// The first region one level down, in code order.
fn first_child(directory: &RegionDirectory, code: &KodeWilayah) -> Option<KodeWilayah> {
    let mut children = directory.children(code);
    children.sort_by(|a, b| a.code.cmp(&b.code));
    children.first().map(|r| r.code.clone())
}

/// The city, kecamatan and kelurahan the demo roles work in, inside `region`.
fn demo_places(
    directory: &RegionDirectory,
    region: &KodeWilayah,
) -> Option<(KodeWilayah, KodeWilayah, KodeWilayah)> {
    let city = match region.level() {
        RegionLevel::Provinsi => first_child(directory, region)?,
        RegionLevel::KabupatenKota => region.clone(),
        _ => region
            .parent()?
            .parent()
            .filter(|c| c.level() == RegionLevel::KabupatenKota)?,
    };
    let kecamatan = match region.level() {
        RegionLevel::Kecamatan => region.clone(),
        _ => first_child(directory, &city)?,
    };
    let kelurahan = first_child(directory, &kecamatan)?;
    Some((city, kecamatan, kelurahan))
}

fn password() -> Zeroizing<String> {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    Zeroizing::new(
        (0..16)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect(),
    )
}

/// Creates the demo accounts, client and agreement; returns the text to print.
pub async fn create(
    store: &dyn Store,
    hasher: &PasswordHasher,
    directory: &RegionDirectory,
    region: &KodeWilayah,
    data_dir: &Path,
    public_url: &str,
) -> anyhow::Result<String> {
    let Some((city, kecamatan, kelurahan)) = demo_places(directory, region) else {
        anyhow::bail!("wilayah demo {region} tidak punya kecamatan dan kelurahan");
    };
    let roles: [(&str, &str, &str, Option<String>); 6] = [
        ("admin", "Administrator Diskominfo", "administrator", None),
        (
            "operator.kelurahan",
            "Operator Kelurahan",
            "operator",
            Some(kelurahan.to_string()),
        ),
        (
            "supervisor.kecamatan",
            "Supervisor Kecamatan",
            "supervisor",
            Some(kecamatan.to_string()),
        ),
        (
            "registrar.dukcapil",
            "Petugas Registrasi Dukcapil",
            "registrar",
            Some(city.to_string()),
        ),
        ("auditor", "Auditor Inspektorat", "auditor", None),
        (
            "analis.dinsos",
            "Analis Dinas Sosial",
            "agency_analyst",
            Some(DEMO_AGENCY.to_owned()),
        ),
    ];
    let mut text = String::from(
        "Akun demo (kata sandi acak untuk hub ini; TOTP didaftarkan saat masuk pertama):\n",
    );
    for (username, display_name, role, scope) in roles {
        let secret = password();
        provision::create_account(
            store,
            hasher,
            NewAccount {
                username: username.to_owned(),
                display_name: display_name.to_owned(),
                role: role.to_owned(),
                scope: scope.clone(),
                password: secret.clone(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("akun demo {username}: {}", e.detail))?;
        let _ = writeln!(
            text,
            "  {username:<22} {:<16} {role} {}",
            secret.as_str(),
            scope.unwrap_or_default()
        );
    }
    let (client, secret) = provision::create_client(
        store,
        NewClient {
            client_id: DEMO_CLIENT.to_owned(),
            name: "Aplikasi Bansos Dinas Sosial (demo)".to_owned(),
            agency: DEMO_AGENCY.to_owned(),
            scopes: "verify_nik verify_nik_batch".to_owned(),
            rate_limit_per_minute: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("klien demo: {}", e.detail))?;
    provision::put_agreement(
        store,
        &AgreementRecord {
            agency: DEMO_AGENCY.to_owned(),
            actions: vec!["verify_nik".into(), "verify_nik_batch".into()],
            region: city.to_string(),
            reference: "PKS-DEMO/001".to_owned(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("perjanjian demo: {}", e.detail))?;
    let _ = writeln!(
        text,
        "Klien demo (OAuth client credentials di {public_url}/oauth/token):\n  client_id={} client_secret={}",
        client.client_id,
        secret.as_str()
    );
    let path = data_dir.join("demo-credentials.txt");
    crate::keys::write_private_file(&path, &text)?;
    let _ = writeln!(text, "(juga disimpan di {})", path.display());
    Ok(text)
}
