//! Where the hub's data keys and blind-index key live, and how they are made and rotated.
//!
//! Each ring comes from inline text (`SIMPUL_KEYS__DATA`, `SIMPUL_KEYS__BLIND`: for
//! containers and secret managers) or from a key file (`keys.data_file`, `keys.blind_file`,
//! default `<data_dir>/keys/`). A first start with neither generates both files, readable
//! by the owner only; production keeps them on another disk than the database and backs
//! them up apart from it (a database copy without its keys is unreadable, by design).
//!
//! Files are re-read on every [`KeySource::load`], which the vault calls when a value names
//! a key it does not know and which `serve` calls every few seconds: so a `simpul keys
//! rotate` run beside a serving hub takes effect without a restart.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use simpul_crypto::{BlindIndexKey, BlindKeyRing, DataKey, DataKeyRing, KeyId, KeyRing};
use simpul_ledger::{CosignatureVerifier, KeyName, NoteSigner};
use simpul_store::{KeySource, Vault, VaultKeys};

use crate::settings::{KeySettings, Settings};

/// One ring's origin.
#[derive(Debug, Clone)]
enum RingSource {
    Inline,
    File(PathBuf),
}

/// The key rings as configured: read afresh on every load.
pub struct ConfiguredKeys {
    settings: KeySettings,
    data: RingSource,
    blind: RingSource,
}

fn ring_source(inline: &str, file: &Path) -> RingSource {
    if inline.trim().is_empty() {
        RingSource::File(file.to_owned())
    } else {
        RingSource::Inline
    }
}

impl ConfiguredKeys {
    pub fn new(settings: &Settings) -> Self {
        let keys = settings.keys.clone();
        let data = ring_source(keys.data.expose(), &settings.data_keys_file());
        let blind = ring_source(keys.blind.expose(), &settings.blind_keys_file());
        Self {
            settings: keys,
            data,
            blind,
        }
    }

    /// The data key file, when the data ring comes from one (rotation rewrites it).
    pub fn data_file(&self) -> Option<&Path> {
        match &self.data {
            RingSource::File(path) => Some(path),
            RingSource::Inline => None,
        }
    }

    /// Writes missing key files with fresh keys; returns the files it wrote.
    pub fn generate_missing(&self) -> anyhow::Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        let id = new_key_id("k")?;
        let mut rng = rand::rng();
        if let RingSource::File(path) = &self.data
            && !path.exists()
        {
            let line = DataKey::generate(&mut rng).to_key_line(&id);
            write_private_file(path, &format!("{DATA_HEADER}*{}\n", *line))?;
            written.push(path.clone());
        }
        if let RingSource::File(path) = &self.blind
            && !path.exists()
        {
            let line = BlindIndexKey::generate(&mut rng).to_key_line(&id);
            write_private_file(path, &format!("{BLIND_HEADER}*{}\n", *line))?;
            written.push(path.clone());
        }
        Ok(written)
    }

    fn text(
        &self,
        source: &RingSource,
        inline: &str,
    ) -> Result<zeroize::Zeroizing<String>, String> {
        match source {
            RingSource::Inline => Ok(zeroize::Zeroizing::new(inline.to_owned())),
            RingSource::File(path) => std::fs::read_to_string(path)
                .map(zeroize::Zeroizing::new)
                .map_err(|e| format!("cannot read key file {}: {e}", path.display())),
        }
    }
}

impl KeySource for ConfiguredKeys {
    fn load(&self) -> Result<VaultKeys, String> {
        let data = self.text(&self.data, self.settings.data.expose())?;
        let blind = self.text(&self.blind, self.settings.blind.expose())?;
        let data = DataKeyRing::parse(&data).map_err(|e| format!("data keys: {e}"))?;
        let blind = BlindKeyRing::parse(&blind).map_err(|e| format!("blind-index keys: {e}"))?;
        if data.shares_material_with(&blind) {
            return Err("a data key is also a blind-index key; they must differ".into());
        }
        Ok(VaultKeys { data, blind })
    }
}

const DATA_HEADER: &str = "# simpul data keys: seal personal data. Keep a copy apart from the database.\n\
# <key id>:<base64 of 32 bytes>; '*' marks the key new values are sealed under.\n";
const BLIND_HEADER: &str = "# simpul blind-index key: builds the lookup indexes of NIK, KK and names.\n\
# Never change it on a database that has data: its indexes would stop matching.\n";

/// A key id naming when it was made, e.g. `k-20261202-070812`.
fn new_key_id(prefix: &str) -> anyhow::Result<KeyId> {
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    KeyId::parse(&format!("{prefix}-{stamp}")).context("key id")
}

/// Writes a file readable by its owner only, atomically (temporary file, then rename):
/// key files, and the demo city's credentials.
pub fn write_private_file(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("membuat direktori kunci {}", dir.display()))?;
    }
    let temporary = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&temporary)
            .with_context(|| format!("menulis berkas kunci {}", temporary.display()))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)
        .with_context(|| format!("mengganti berkas kunci {}", path.display()))?;
    Ok(())
}

/// The vault the hub and its tools use: generating key files on a first start when
/// `generate` holds, then loading them.
pub fn vault(settings: &Settings, generate: bool) -> anyhow::Result<Arc<Vault>> {
    let keys = ConfiguredKeys::new(settings);
    if generate && settings.keys.generate_if_missing {
        for path in keys.generate_missing()? {
            println!(
                "Kunci baru dibuat: {} (simpan salinannya terpisah dari basis data)",
                path.display()
            );
        }
    }
    let vault = Vault::from_source(Arc::new(keys)).context("memuat kunci")?;
    Ok(Arc::new(vault))
}

/// How often a serving hub re-reads its key files, so values sealed after a rotation use
/// the new key within seconds.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Re-reads the keys every [`RELOAD_EVERY`] for as long as the hub runs. A failed reload
/// (a half-edited file, a changed blind key) keeps the keys in use and is logged.
pub async fn follow(vault: Arc<Vault>) {
    let mut tick = tokio::time::interval(RELOAD_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = vault.reload() {
            tracing::warn!(%error, "keys not reloaded; the previous keys stay in use");
        }
    }
}

/// The access-token signing keys: the key file, generated with one key when missing.
pub fn token_signer(settings: &Settings) -> anyhow::Result<simpul_identity::AccessTokenSigner> {
    use simpul_identity::{AccessTokenSigner, SigningKeyId};
    let path = settings.token_keys_file();
    if !path.exists() {
        let stamp = chrono::Utc::now().format("t%Y%m%d%H%M%S").to_string();
        let id = SigningKeyId::parse(&stamp).context("signing key id")?;
        let signer = AccessTokenSigner::generate(id, &mut rand::rng());
        write_private_file(&path, &signer.to_key_file())?;
        println!("Kunci penanda token dibuat: {}", path.display());
    }
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(&path)
            .with_context(|| format!("membaca kunci token {}", path.display()))?,
    );
    AccessTokenSigner::parse(&text)
        .with_context(|| format!("kunci token di {} tidak valid", path.display()))
}

/// The ledger's signing key, from its file; with `generate`, a new one is written when the
/// file is missing. The key is named after `ledger.origin`, as C2SP checkpoints require.
pub fn ledger_signer(settings: &Settings, generate: bool) -> anyhow::Result<NoteSigner> {
    let path = settings.ledger_key_file();
    let origin = &settings.ledger.origin;
    if !path.exists() {
        if !generate {
            anyhow::bail!("kunci ledger {} tidak ada", path.display());
        }
        let name = KeyName::new(origin.clone())
            .with_context(|| format!("ledger.origin {origin:?} bukan nama kunci yang sah"))?;
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rng(), seed.as_mut());
        let signer = NoteSigner::from_seed(name, &seed);
        write_private_file(&path, &format!("{}\n", signer.to_skey().as_str()))?;
        println!("Kunci ledger dibuat: {}", path.display());
    }
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(&path)
            .with_context(|| format!("membaca kunci ledger {}", path.display()))?,
    );
    let signer = NoteSigner::from_skey(text.trim())
        .with_context(|| format!("kunci ledger di {} tidak valid", path.display()))?;
    if signer.name().as_str() != origin {
        anyhow::bail!(
            "kunci ledger {} bernama {}, tetapi ledger.origin adalah {origin}: nama log tidak \
             boleh berubah",
            path.display(),
            signer.name()
        );
    }
    Ok(signer)
}

/// The ledger's identity as the API publishes it: origin, public key, accepted witnesses.
pub fn ledger_config(
    settings: &Settings,
    signer: &NoteSigner,
) -> anyhow::Result<simpul_api::ledger::LedgerConfig> {
    let witnesses = settings
        .ledger
        .witnesses
        .iter()
        .map(|vkey| {
            CosignatureVerifier::from_vkey(vkey)
                .with_context(|| format!("ledger.witnesses: {vkey:?} bukan kunci saksi yang sah"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(simpul_api::ledger::LedgerConfig {
        origin: settings.ledger.origin.clone(),
        log_key: signer.verifier(),
        witnesses,
    })
}

/// Re-reads the token signing keys every [`RELOAD_EVERY`] when their file changed, so a
/// `simpul keys rotate-signing` takes effect (new tokens signed with the new key, the JWKS
/// listing both) without a restart.
pub async fn follow_signer(security: Arc<simpul_api::Security>, path: PathBuf) {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut seen = modified(&path);
    let mut tick = tokio::time::interval(RELOAD_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = modified(&path);
        if now == seen {
            continue;
        }
        seen = now;
        let loaded = std::fs::read_to_string(&path)
            .map(zeroize::Zeroizing::new)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                simpul_identity::AccessTokenSigner::parse(&text).map_err(|e| e.to_string())
            });
        match loaded {
            Ok(signer) => {
                security.replace_signer(signer);
                tracing::info!("token signing keys reloaded");
            }
            Err(error) => {
                tracing::warn!(%error, "token signing keys not reloaded; the previous keys stay in use");
            }
        }
    }
}

/// The token key file with a new active signing key (old ones keep verifying).
pub fn rotate_signing(settings: &Settings) -> anyhow::Result<String> {
    let mut signer = token_signer(settings)?;
    let stamp = chrono::Utc::now().format("t%Y%m%d%H%M%S").to_string();
    let id = simpul_identity::SigningKeyId::parse(&stamp).context("signing key id")?;
    signer
        .rotate(id.clone(), &mut rand::rng())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    write_private_file(&settings.token_keys_file(), &signer.to_key_file())?;
    Ok(id.as_str().to_owned())
}

/// The token key file reduced to its active signing key.
pub fn retire_signing(settings: &Settings) -> anyhow::Result<Vec<String>> {
    let mut signer = token_signer(settings)?;
    let active = signer.active_id().clone();
    let old: Vec<_> = signer.ids().filter(|id| **id != active).cloned().collect();
    for id in &old {
        signer.retire(id).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    write_private_file(&settings.token_keys_file(), &signer.to_key_file())?;
    Ok(old.iter().map(|id| id.as_str().to_owned()).collect())
}

/// A data ring with a fresh key added as the active one, as key-file text.
pub fn rotated_data_ring(current: &str) -> anyhow::Result<(KeyId, String)> {
    let ring: DataKeyRing = KeyRing::parse(current).context("berkas kunci data tidak valid")?;
    let id = new_key_id("k")?;
    if ring.get(&id).is_some() {
        bail!("kunci {id} sudah ada; tunggu sedetik lalu ulangi");
    }
    let new_line = DataKey::generate(&mut rand::rng()).to_key_line(&id);
    // The old entries are kept as written, minus their active mark.
    let old: Vec<String> = current
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| l.trim().trim_start_matches('*').to_owned())
        .collect();
    let text = format!("{DATA_HEADER}*{}\n{}\n", *new_line, old.join("\n"));
    Ok((id, text))
}

/// The data ring reduced to its active key, as key-file text.
pub fn retired_data_ring(current: &str) -> anyhow::Result<String> {
    let ring: DataKeyRing = KeyRing::parse(current).context("berkas kunci data tidak valid")?;
    let active = ring.active_id().as_str();
    let line = current
        .lines()
        .map(str::trim)
        .find(|l| l.trim_start_matches('*').split(':').next() == Some(active))
        .context("kunci aktif tidak ditemukan di berkas")?;
    Ok(format!("{DATA_HEADER}*{}\n", line.trim_start_matches('*')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_adds_an_active_key_and_retiring_keeps_only_it() {
        let first = format!(
            "{DATA_HEADER}*{}\n",
            *DataKey::generate(&mut rand::rng()).to_key_line(&KeyId::parse("k-1").unwrap())
        );
        let (id, rotated) = rotated_data_ring(&first).unwrap();
        let ring: DataKeyRing = KeyRing::parse(&rotated).unwrap();
        assert_eq!(ring.active_id(), &id);
        assert_eq!(ring.ids().count(), 2);
        let retired: DataKeyRing = KeyRing::parse(&retired_data_ring(&rotated).unwrap()).unwrap();
        assert_eq!(retired.ids().collect::<Vec<_>>(), [&id]);
    }

    #[test]
    fn generated_files_load_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings {
            data_dir: dir.path().to_owned(),
            ..Settings::default()
        };
        settings.keys.generate_if_missing = true;
        let vault = vault(&settings, true).unwrap();
        assert!(vault.active_data_key().as_str().starts_with("k-"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(settings.data_keys_file())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "key file readable by others: {mode:o}");
        }
        // Loading again gives the same keys (the files are not regenerated).
        let again = super::vault(&settings, true).unwrap();
        assert_eq!(again.blind_key_check(), vault.blind_key_check());
    }
}
