//! The hub's typed configuration, loaded once in `main` and passed by value.
//!
//! Layers, later winning: compiled defaults, then the TOML file (`--config`, or
//! `SIMPUL_CONFIG`), then `SIMPUL_*` environment variables (`__` between nested keys, e.g.
//! `SIMPUL_DEMO__RESIDENTS`). Unknown keys in the file stop start-up, so a typo is never
//! silently ignored. Loading reads and never writes files.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use simpul_identity::SecretText;

/// Environment variables that share the `SIMPUL_` prefix but are not settings: the test
/// suite's service URLs, the load generator's client credentials, and the password
/// `simpul admin create-user` reads. They are left out of the settings layer so that a hub
/// started beside them does not refuse them as unknown keys.
const NOT_SETTINGS_PREFIXES: [&str; 3] = ["SIMPUL_TEST_", "SIMPUL_BENCH_", "SIMPUL_ADMIN_"];

/// Everything the hub reads at start-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Directory holding the embedded database and other state.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://path` or `postgres://...`. Empty means SQLite in `data_dir`.
    pub database_url: String,
    /// Address the HTTP API listens on.
    pub listen: SocketAddr,
    /// Log line format: `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// The synthetic demo city seeded into an empty store.
    pub demo: DemoSettings,
    /// Where the keys that seal personal data come from.
    pub keys: KeySettings,
    /// Sign-in, sessions, tokens and request quotas.
    pub security: SecuritySettings,
    /// Thresholds of the suspicious-access rules.
    pub watch: simpul_watch::Thresholds,
    /// e-LAMPID service levels.
    pub lampid: LampidSettings,
    /// The tamper-evident ledger: its name, key and witnesses.
    pub ledger: LedgerSettings,
}

/// The tamper-evident ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LedgerSettings {
    /// The log's name: the first line of every checkpoint and the name of its key. Set it
    /// once, before the first start (for example `simpul.madiunkota.go.id/ledger`): a new
    /// name is a new log to every witness and auditor.
    pub origin: String,
    /// The log's signing key file; empty means `<data_dir>/keys/ledger.key`.
    pub key_file: PathBuf,
    /// Witness public keys (vkeys, as `simpul ledger witness-key` prints them) whose
    /// cosignatures the hub accepts and publishes.
    pub witnesses: Vec<String>,
}

impl Default for LedgerSettings {
    fn default() -> Self {
        Self {
            origin: "simpul.local/ledger".into(),
            key_file: PathBuf::new(),
            witnesses: Vec::new(),
        }
    }
}

/// e-LAMPID service levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LampidSettings {
    /// Target from first submission to registration, in minutes (the ministry's reform
    /// target is two hours); older pending submissions are flagged overdue.
    pub target_minutes: u32,
}

impl Default for LampidSettings {
    fn default() -> Self {
        Self {
            target_minutes: 120,
        }
    }
}

/// Sign-in, sessions, tokens and quotas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySettings {
    /// The hub's public URL: the `iss` of its access tokens. Empty means `http://<listen>`.
    pub public_url: String,
    /// Mark the session cookie `Secure` (sent over HTTPS only). Turn off only for a hub
    /// reached over plain HTTP on a trusted LAN.
    pub cookie_secure: bool,
    /// Requests a minute for each operator and for clients without their own quota.
    pub requests_per_minute: u32,
    /// Lifetime of an access token, in seconds.
    pub token_lifetime_secs: u32,
    /// Token signing key file; empty means `<data_dir>/keys/token.keys`.
    pub token_keys_file: PathBuf,
    /// Session idle and absolute timeouts.
    pub sessions: simpul_identity::SessionPolicy,
    /// Back-off and lock-out after failed sign-ins.
    pub sign_in: simpul_identity::ThrottlePolicy,
    /// Create demo accounts and a demo client (printed) when the demo city is seeded.
    pub demo_accounts: bool,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            public_url: String::new(),
            cookie_secure: true,
            requests_per_minute: 1_000,
            token_lifetime_secs: 600,
            token_keys_file: PathBuf::new(),
            sessions: simpul_identity::SessionPolicy::default(),
            sign_in: simpul_identity::ThrottlePolicy::default(),
            demo_accounts: true,
        }
    }
}

/// Key rings: inline text (environment, secret manager) or files. See `keys.rs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeySettings {
    /// Data key ring as text (`*id:base64,...`); empty means `data_file`.
    pub data: SecretText,
    /// Data key file; empty means `<data_dir>/keys/data.keys`.
    pub data_file: PathBuf,
    /// Blind-index key ring as text; empty means `blind_file`.
    pub blind: SecretText,
    /// Blind-index key file; empty means `<data_dir>/keys/blind.keys`.
    pub blind_file: PathBuf,
    /// Create missing key files with fresh keys on start (a new hub).
    pub generate_if_missing: bool,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            data: SecretText::default(),
            data_file: PathBuf::new(),
            blind: SecretText::default(),
            blind_file: PathBuf::new(),
            generate_if_missing: true,
        }
    }
}

/// What `serve` seeds on first start, and `demo`'s defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoSettings {
    /// Seed the demo city when `serve` starts on an empty registry.
    pub seed_on_first_start: bool,
    /// Region to populate (Kemendagri code; default Kota Madiun).
    pub region: String,
    /// Residents to generate.
    pub residents: u64,
    /// Random seed; the same seed gives the same city.
    pub seed: u64,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./simpul-data"),
            database_url: String::new(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: LogFormat::Text,
            demo: DemoSettings::default(),
            keys: KeySettings::default(),
            security: SecuritySettings::default(),
            watch: simpul_watch::Thresholds::default(),
            lampid: LampidSettings::default(),
            ledger: LedgerSettings::default(),
        }
    }
}

impl Default for DemoSettings {
    fn default() -> Self {
        Self {
            seed_on_first_start: true,
            region: "35.77".into(),
            // Kota Madiun has about 200,000 residents in 27 kelurahan.
            residents: 200_000,
            seed: 1,
        }
    }
}

impl Settings {
    /// Loads defaults, then `file` if given, then the process environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        Self::load_from(file, std::env::vars())
    }

    /// As [`Settings::load`], with the environment given (tests pass their own).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let defaults = config::Config::try_from(&Settings::default())?;
        let mut builder = config::Config::builder().add_source(defaults);
        if let Some(file) = file {
            anyhow::ensure!(
                file.is_file(),
                "berkas konfigurasi {} tidak ada",
                file.display()
            );
            builder = builder.add_source(config::File::from(file).format(config::FileFormat::Toml));
        }
        let env: config::Map<String, String> = env
            .into_iter()
            .filter(|(key, _)| {
                key.starts_with("SIMPUL_")
                    && !NOT_SETTINGS_PREFIXES.iter().any(|p| key.starts_with(p))
                    && key != "SIMPUL_CONFIG"
            })
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("SIMPUL")
                .separator("__")
                .prefix_separator("_")
                .try_parsing(true)
                .source(Some(env)),
        );
        let settings: Settings = builder
            .build()?
            .try_deserialize()
            .context("konfigurasi tidak valid")?;
        Ok(settings)
    }

    /// The database URL to open: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("simpul.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// The data key file in use when no inline ring is set.
    pub fn data_keys_file(&self) -> PathBuf {
        self.key_file(&self.keys.data_file, "data.keys")
    }

    /// The blind-index key file in use when no inline ring is set.
    pub fn blind_keys_file(&self) -> PathBuf {
        self.key_file(&self.keys.blind_file, "blind.keys")
    }

    /// The ledger's signing key file.
    pub fn ledger_key_file(&self) -> PathBuf {
        self.key_file(&self.ledger.key_file, "ledger.key")
    }

    /// The access-token signing key file.
    pub fn token_keys_file(&self) -> PathBuf {
        self.key_file(&self.security.token_keys_file, "token.keys")
    }

    /// The `iss` of access tokens.
    pub fn public_url(&self) -> String {
        if self.security.public_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.security.public_url.trim_end_matches('/').to_owned()
        }
    }

    fn key_file(&self, configured: &Path, default_name: &str) -> PathBuf {
        if configured.as_os_str().is_empty() {
            self.data_dir.join("keys").join(default_name)
        } else {
            configured.to_owned()
        }
    }

    /// The defaults as a commented TOML file, printed by `simpul default-config`.
    pub fn default_toml() -> String {
        let body = toml::to_string_pretty(&Settings::default()).unwrap_or_default();
        format!(
            "# simpul configuration. Every key is optional; these are the defaults.\n\
             # Environment variables override the file: SIMPUL_LISTEN, SIMPUL_DATA_DIR,\n\
             # SIMPUL_DATABASE_URL, SIMPUL_LOG_FORMAT, SIMPUL_DEMO__RESIDENTS, ...\n\
             # Keys may come inline instead of from files: SIMPUL_KEYS__DATA, SIMPUL_KEYS__BLIND.\n\
             # database_url = \"\" means SQLite in data_dir; or postgres://user@host/db\n\n{body}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_without_file_or_env() {
        let settings = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(settings, Settings::default());
        assert_eq!(settings.database_url(), "sqlite://./simpul-data/simpul.db");
    }

    #[test]
    fn environment_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("simpul.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/simpul\"\n[demo]\nresidents = 5000\n",
        )
        .unwrap();
        let settings = Settings::load_from(
            Some(&file),
            env(&[
                ("SIMPUL_LISTEN", "127.0.0.1:9100"),
                ("SIMPUL_DEMO__SEED", "7"),
                ("SIMPUL_TEST_POSTGRES_URL", "postgres://ignored"),
                ("OTHER", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.listen, "127.0.0.1:9100".parse().unwrap());
        assert_eq!(settings.data_dir, PathBuf::from("/srv/simpul"));
        assert_eq!((settings.demo.residents, settings.demo.seed), (5000, 7));
        assert!(settings.demo.seed_on_first_start);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("simpul.toml");
        std::fs::write(&file, "listne = \"127.0.0.1:9000\"\n").unwrap();
        let error = Settings::load_from(Some(&file), env(&[])).unwrap_err();
        assert!(format!("{error:#}").contains("listne"), "{error:#}");
        let error = Settings::load_from(None, env(&[("SIMPUL_LISTEN", "nowhere")])).unwrap_err();
        assert!(format!("{error:#}").contains("listen"), "{error:#}");
        assert!(Settings::load_from(Some(&dir.path().join("missing.toml")), env(&[])).is_err());
    }

    #[test]
    fn key_text_is_never_shown_by_debug() {
        let settings = Settings::load_from(
            None,
            env(&[(
                "SIMPUL_KEYS__DATA",
                "*k1:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=",
            )]),
        )
        .unwrap();
        assert!(settings.keys.data.expose().starts_with("*k1:"));
        let shown = format!("{settings:?}");
        assert!(!shown.contains("c2Vjcm"), "{shown}");
        assert!(shown.contains("<redacted>"));
        assert_eq!(
            settings.blind_keys_file(),
            PathBuf::from("./simpul-data/keys/blind.keys")
        );
    }

    #[test]
    fn the_committed_example_is_the_printed_defaults() {
        let committed = include_str!("../../../simpul.example.toml");
        assert_eq!(
            committed,
            Settings::default_toml(),
            "run `simpul default-config > simpul.example.toml`"
        );
    }

    #[test]
    fn the_printed_defaults_load_back_to_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("simpul.toml");
        std::fs::write(&file, Settings::default_toml()).unwrap();
        assert_eq!(
            Settings::load_from(Some(&file), env(&[])).unwrap(),
            Settings::default()
        );
    }
}
