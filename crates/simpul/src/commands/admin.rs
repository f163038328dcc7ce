//! `simpul admin`: bootstrap and manage accounts, machine clients and agreements straight
//! on the store (no hub needed), with the same checks as the admin API.

use std::io::BufRead;

use anyhow::{Context, bail};
use simpul_api::auth::provision::{self, NewAccount, NewClient};
use simpul_store::AgreementRecord;
use zeroize::Zeroizing;

use crate::settings::Settings;
use crate::{keys, store};

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Create an account. The password is read from SIMPUL_ADMIN_PASSWORD or the first
    /// line of standard input; TOTP is enrolled at the first sign-in.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "administrator")]
        role: String,
        /// Kelurahan/kecamatan/city code, or agency id, for roles that have one.
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Register an agency's machine client; prints its secret once.
    CreateClient {
        #[arg(long)]
        id: String,
        #[arg(long)]
        agency: String,
        /// Space-separated action codes, e.g. "verify_nik verify_nik_batch".
        #[arg(long)]
        scopes: String,
        #[arg(long)]
        name: Option<String>,
        /// Requests a minute (default: the hub's).
        #[arg(long)]
        requests_per_minute: Option<u32>,
    },
    /// Revoke a client: its tokens stop working at once.
    RevokeClient {
        #[arg(long)]
        id: String,
    },
    /// Add or replace an agency agreement (what its analysts and clients may do, where).
    Grant {
        #[arg(long)]
        agency: String,
        /// Space-separated action codes.
        #[arg(long)]
        actions: String,
        #[arg(long)]
        region: String,
        #[arg(long)]
        reference: String,
    },
}

fn read_password() -> anyhow::Result<Zeroizing<String>> {
    if let Ok(password) = std::env::var("SIMPUL_ADMIN_PASSWORD") {
        return Ok(Zeroizing::new(password));
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("membaca kata sandi dari stdin")?;
    let password = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned());
    if password.is_empty() {
        bail!("beri kata sandi lewat SIMPUL_ADMIN_PASSWORD atau baris pertama stdin");
    }
    Ok(password)
}

pub async fn run(settings: Settings, command: AdminCommand) -> anyhow::Result<()> {
    store::check_scheme(&settings.database_url())?;
    let vault = keys::vault(&settings, true)?;
    let store = store::open(&settings.database_url(), vault).await?;
    let problem = |e: simpul_api::problem::ApiError| {
        anyhow::anyhow!(
            "{}{}",
            e.detail,
            e.field.map(|f| format!(" ({f})")).unwrap_or_default()
        )
    };
    match command {
        AdminCommand::CreateUser {
            username,
            role,
            scope,
            display_name,
        } => {
            let password = read_password()?;
            let security = super::serve::security(&settings)?;
            let account = provision::create_account(
                store.as_ref(),
                &security.hasher,
                NewAccount {
                    display_name: display_name.unwrap_or_else(|| username.clone()),
                    username,
                    role,
                    scope,
                    password,
                },
            )
            .await
            .map_err(problem)?;
            println!(
                "Akun {} ({}) dibuat; daftarkan TOTP saat masuk pertama.",
                account.username, account.role
            );
        }
        AdminCommand::CreateClient {
            id,
            agency,
            scopes,
            name,
            requests_per_minute,
        } => {
            let (client, secret) = provision::create_client(
                store.as_ref(),
                NewClient {
                    name: name.unwrap_or_else(|| id.clone()),
                    client_id: id,
                    agency,
                    scopes,
                    rate_limit_per_minute: requests_per_minute,
                },
            )
            .await
            .map_err(problem)?;
            println!("client_id={}", client.client_id);
            println!("client_secret={}", secret.as_str());
            println!("(rahasia ini hanya ditampilkan sekali)");
        }
        AdminCommand::RevokeClient { id } => {
            if !store.revoke_client(&id, simpul_store::now()).await? {
                bail!("klien {id} tidak ada");
            }
            println!("Klien {id} dicabut.");
        }
        AdminCommand::Grant {
            agency,
            actions,
            region,
            reference,
        } => {
            let agreement = AgreementRecord {
                agency,
                actions: actions.split_whitespace().map(str::to_owned).collect(),
                region,
                reference,
            };
            provision::put_agreement(store.as_ref(), &agreement)
                .await
                .map_err(problem)?;
            println!(
                "Perjanjian {} untuk {} disimpan.",
                agreement.reference, agreement.agency
            );
        }
    }
    Ok(())
}
