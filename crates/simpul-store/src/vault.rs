//! The keys every backend seals personal data with, and the one place rows are sealed,
//! opened and blinded.
//!
//! A backend never sees a name, a birth date or a NIK in clear on its way to disk: the
//! shared row conversions ([`crate::rows`]) call the [`Vault`] to seal a resident's
//! personal fields into one AEAD value and to compute the blind indexes (keyed HMAC) the
//! tables are keyed and searched by. What is sealed where:
//!
//! | table | sealed (`pii` / `data`) | blind indexes | in clear |
//! |---|---|---|---|
//! | `residents` | NIK, KK number, name, birth place and date, occupation, parents' names | NIK, KK, birth date, name words | coded fields (sex, religion, ...), status, kelurahan, kecamatan, card position |
//! | `families` | KK number, street | KK, head's NIK | RT, RW, kelurahan |
//! | `journal` | the whole event | — | sequence, type, subject (kelurahan), time |
//!
//! RT and RW stay in clear: with the kelurahan they name a neighbourhood of some fifty
//! households, which statistics group by; the street is what makes an address personal.
//!
//! Keys come from a [`KeySource`] (files or environment in the binary; a KMS can implement
//! the trait later). When a sealed value names a data key the vault does not hold, the
//! vault asks its source again before failing: that is how a hub keeps reading while
//! `simpul keys rotate` seals rows under a key it has just added.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::Serialize;
use serde::de::DeserializeOwned;
use simpul_crypto::{
    BlindDomain, BlindIndexKey, BlindKeyRing, DataKey, DataKeyRing, FieldContext, KeyId, OpenError,
    SealedValue,
};
use simpul_domain::{Nik, NoKk};

use crate::StoreError;

/// The two key rings a store needs: data keys seal values, the blind key indexes them.
pub struct VaultKeys {
    pub data: DataKeyRing,
    pub blind: BlindKeyRing,
}

impl VaultKeys {
    /// A fresh pair of one-key rings, e.g. for a new data directory or a test.
    pub fn generate<R: rand::CryptoRng + ?Sized>(rng: &mut R, id: &KeyId) -> Self {
        Self {
            data: DataKeyRing::new(id.clone(), DataKey::generate(rng)),
            blind: BlindKeyRing::new(id.clone(), BlindIndexKey::generate(rng)),
        }
    }
}

/// Where a vault's keys come from. Implemented by the binary over key files and
/// environment variables; a KMS client can implement it too.
pub trait KeySource: Send + Sync {
    /// The current keys. Called at start-up and again when a value names an unknown key.
    fn load(&self) -> Result<VaultKeys, String>;
}

/// Why the keys do not fit: refused at start-up, before anything is served.
fn keys_error(message: impl Into<String>) -> StoreError {
    StoreError::Keys(message.into())
}

/// Fewest seconds between two reloads caused by unknown key ids, so a flood of values
/// under a removed key does not become a flood of key-file reads.
const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// The keys a store seals, opens and blinds with.
pub struct Vault {
    keys: RwLock<Arc<VaultKeys>>,
    source: Option<Arc<dyn KeySource>>,
    last_reload: Mutex<Option<Instant>>,
}

/// The label a database's blind-key check value is computed over (see
/// [`Vault::blind_key_check`]).
const CHECK_LABEL: &[u8] = b"simpul/blind-key-check/v1";

impl Vault {
    /// A vault over fixed keys (tests, one-shot tools).
    pub fn new(keys: VaultKeys) -> Self {
        Self {
            keys: RwLock::new(Arc::new(keys)),
            source: None,
            last_reload: Mutex::new(None),
        }
    }

    /// A vault that loads its keys from `source` now and again when it meets a new key id.
    pub fn from_source(source: Arc<dyn KeySource>) -> Result<Self, StoreError> {
        let keys = source.load().map_err(keys_error)?;
        Ok(Self {
            keys: RwLock::new(Arc::new(keys)),
            source: Some(source),
            last_reload: Mutex::new(None),
        })
    }

    /// A vault with freshly generated keys, for tests.
    pub fn ephemeral() -> Self {
        let id = KeyId::parse("test").unwrap_or_else(|_| unreachable!("a valid literal id"));
        Self::new(VaultKeys::generate(&mut rand::rng(), &id))
    }

    fn keys(&self) -> Arc<VaultKeys> {
        // A poisoned lock still holds a consistent Arc: it is only ever replaced whole.
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Re-reads the key source. The blind key may not change (every stored index would
    /// stop matching); data keys may be added, activated and removed.
    pub fn reload(&self) -> Result<(), StoreError> {
        let Some(source) = &self.source else {
            return Ok(());
        };
        let fresh = source.load().map_err(keys_error)?;
        let current = self.keys();
        if fresh.blind.active_id() != current.blind.active_id()
            || self.check_value(&fresh) != self.check_value(&current)
        {
            return Err(keys_error(
                "the blind-index key changed while serving; restart after a rebuild",
            ));
        }
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
        Ok(())
    }

    /// Reloads at most once a [`RELOAD_INTERVAL`]; true when it did.
    fn reload_throttled(&self) -> bool {
        let mut last = self.last_reload.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| at.elapsed() < RELOAD_INTERVAL) || self.source.is_none() {
            return false;
        }
        *last = Some(Instant::now());
        drop(last);
        self.reload().is_ok()
    }

    /// The id of the active data key: what new values are sealed under.
    pub fn active_data_key(&self) -> KeyId {
        self.keys().data.active_id().clone()
    }

    /// The active blind key's id, stored by the database so a mismatch is caught.
    pub fn blind_key_id(&self) -> String {
        self.keys().blind.active_id().as_str().to_owned()
    }

    fn check_value(&self, keys: &VaultKeys) -> String {
        keys.blind
            .active()
            .blind(BlindDomain::NameToken, CHECK_LABEL)
            .to_string()
    }

    /// A value the database stores beside the blind key id: a keyed hash that proves the
    /// key of that id is the one that built the indexes, without revealing it.
    pub fn blind_key_check(&self) -> String {
        self.check_value(&self.keys())
    }

    /// Compares the database's recorded blind key with this vault's; `None` recorded means
    /// a new database, which the caller then stamps with [`Vault::blind_key_id`] and
    /// [`Vault::blind_key_check`].
    pub fn verify_recorded(&self, id: Option<&str>, check: Option<&str>) -> Result<(), StoreError> {
        match (id, check) {
            (None, None) => Ok(()),
            (Some(id), Some(check))
                if id == self.blind_key_id() && check == self.blind_key_check() =>
            {
                Ok(())
            }
            (Some(id), _) if id != self.blind_key_id() => Err(keys_error(format!(
                "this database's indexes were built with blind key '{id}', not '{}'",
                self.blind_key_id()
            ))),
            _ => Err(keys_error(
                "the blind key has this database's key id but other key material",
            )),
        }
    }

    /// The blind index of a NIK, as stored (64 hex digits).
    pub fn nik_index(&self, nik: &Nik) -> String {
        self.keys().blind.active().blind_nik(nik).to_string()
    }

    /// The blind index of a KK number.
    pub fn no_kk_index(&self, no_kk: &NoKk) -> String {
        self.keys().blind.active().blind_no_kk(no_kk).to_string()
    }

    /// The blind index of a birth date.
    pub fn birth_date_index(&self, date: NaiveDate) -> String {
        let text = date.format("%Y-%m-%d").to_string();
        self.keys()
            .blind
            .active()
            .blind(BlindDomain::BirthDate, text.as_bytes())
            .to_string()
    }

    /// The blind index of each word of `name`, normalised and each once: what a resident's
    /// row is indexed under.
    pub fn name_indexes(&self, name: &str) -> Vec<String> {
        self.keys()
            .blind
            .active()
            .blind_name_tokens(name)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// The blind index of each already normalised name word (a search's words).
    pub fn name_token_indexes(&self, tokens: &[String]) -> Vec<String> {
        let keys = self.keys();
        tokens
            .iter()
            .map(|t| {
                keys.blind
                    .active()
                    .blind(BlindDomain::NameToken, t.as_bytes())
                    .to_string()
            })
            .collect()
    }

    /// Seals `value` as JSON for `table.column` of the row `row` (its key, as stored).
    pub fn seal_json<T: Serialize>(
        &self,
        table: &str,
        column: &str,
        row: &str,
        value: &T,
    ) -> Result<String, StoreError> {
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(value).map_err(|e| {
            StoreError::Corrupt(format!("value not encodable ({:?})", e.classify()))
        })?);
        let ctx = FieldContext::new(table, column, row.as_bytes());
        let sealed = self
            .keys()
            .data
            .seal(&mut rand::rng(), &ctx, &plain)
            .map_err(|e| StoreError::Corrupt(format!("value not sealable ({e})")))?;
        Ok(sealed.to_string())
    }

    /// Opens a value [`Vault::seal_json`] sealed for the same place.
    pub fn open_json<T: DeserializeOwned>(
        &self,
        table: &str,
        column: &str,
        row: &str,
        text: &str,
    ) -> Result<T, StoreError> {
        let sealed = parse_sealed(table, column, text)?;
        let ctx = FieldContext::new(table, column, row.as_bytes());
        let plain = match self.keys().data.open(&ctx, &sealed) {
            Err(OpenError::UnknownKey(_)) if self.reload_throttled() => {
                self.keys().data.open(&ctx, &sealed)
            }
            other => other,
        }
        .map_err(|e| open_failed(table, column, &e))?;
        serde_json::from_slice(&plain).map_err(|e| {
            StoreError::Corrupt(format!(
                "{table}.{column} unreadable after opening ({:?})",
                e.classify()
            ))
        })
    }

    /// Whether a stored value is sealed under a data key other than the active one.
    pub fn needs_rotation(
        &self,
        table: &str,
        column: &str,
        text: &str,
    ) -> Result<bool, StoreError> {
        let sealed = parse_sealed(table, column, text)?;
        Ok(self.keys().data.needs_rotation(&sealed))
    }

    /// The value sealed again under the active data key.
    pub fn reseal(
        &self,
        table: &str,
        column: &str,
        row: &str,
        text: &str,
    ) -> Result<String, StoreError> {
        let sealed = parse_sealed(table, column, text)?;
        let ctx = FieldContext::new(table, column, row.as_bytes());
        self.keys()
            .data
            .reseal(&mut rand::rng(), &ctx, &sealed)
            .map(|v| v.to_string())
            .map_err(|e| open_failed(table, column, &e))
    }
}

fn parse_sealed(table: &str, column: &str, text: &str) -> Result<SealedValue, StoreError> {
    SealedValue::parse(text)
        .map_err(|e| StoreError::Corrupt(format!("{table}.{column} is not a sealed value ({e})")))
}

fn open_failed(table: &str, column: &str, error: &OpenError) -> StoreError {
    match error {
        OpenError::UnknownKey(id) => keys_error(format!(
            "{table}.{column} is sealed under data key '{id}', which the key ring lacks"
        )),
        other => StoreError::Corrupt(format!("{table}.{column} does not open ({other})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Swappable(Mutex<Vec<String>>);

    impl KeySource for Swappable {
        fn load(&self) -> Result<VaultKeys, String> {
            let texts = self.0.lock().expect("test lock");
            Ok(VaultKeys {
                data: DataKeyRing::parse(&texts[0]).map_err(|e| e.to_string())?,
                blind: BlindKeyRing::parse(&texts[1]).map_err(|e| e.to_string())?,
            })
        }
    }

    fn id(text: &str) -> KeyId {
        KeyId::parse(text).expect("id")
    }

    #[test]
    fn a_value_opens_only_in_its_place_and_names_no_plaintext() {
        let vault = Vault::ephemeral();
        let sealed = vault
            .seal_json("residents", "pii", "row-1", &"SITI AMINAH")
            .expect("seals");
        assert!(!sealed.contains("SITI"));
        let opened: String = vault
            .open_json("residents", "pii", "row-1", &sealed)
            .expect("opens");
        assert_eq!(opened, "SITI AMINAH");
        let moved = vault.open_json::<String>("residents", "pii", "row-2", &sealed);
        assert!(matches!(moved, Err(StoreError::Corrupt(_))), "{moved:?}");
    }

    #[test]
    fn a_new_data_key_is_picked_up_when_a_value_names_it() {
        let mut rng = rand::rng();
        let old = DataKey::generate(&mut rng);
        let new = DataKey::generate(&mut rng);
        let blind = BlindIndexKey::generate(&mut rng)
            .to_key_line(&id("b1"))
            .to_string();
        let source = Arc::new(Swappable(Mutex::new(vec![
            old.to_key_line(&id("k1")).to_string(),
            blind.clone(),
        ])));
        let hub = Vault::from_source(source.clone()).expect("keys");
        let rotated_text = format!(
            "*{},{}",
            *new.to_key_line(&id("k2")),
            *old.to_key_line(&id("k1"))
        );
        let rotator = Vault::new(VaultKeys {
            data: DataKeyRing::parse(&rotated_text).expect("ring"),
            blind: BlindKeyRing::parse(&blind).expect("ring"),
        });
        let sealed = rotator
            .seal_json("journal", "data", "7", &42u32)
            .expect("seals");
        assert!(sealed.starts_with("v1.k2."));
        *source.0.lock().expect("lock") = vec![rotated_text, blind];
        assert_eq!(
            hub.open_json::<u32>("journal", "data", "7", &sealed)
                .expect("reloads"),
            42
        );
        assert_eq!(hub.active_data_key().as_str(), "k2");
    }

    #[test]
    fn a_database_built_with_another_blind_key_is_refused() {
        let vault = Vault::ephemeral();
        let other = Vault::ephemeral();
        let id = vault.blind_key_id();
        let check = vault.blind_key_check();
        assert!(vault.verify_recorded(None, None).is_ok());
        assert!(vault.verify_recorded(Some(&id), Some(&check)).is_ok());
        let refused = other.verify_recorded(Some(&id), Some(&check));
        assert!(matches!(refused, Err(StoreError::Keys(_))), "{refused:?}");
        let refused = vault.verify_recorded(Some("other"), Some(&check));
        assert!(matches!(refused, Err(StoreError::Keys(_))), "{refused:?}");
    }
}
