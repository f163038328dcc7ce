//! Operator session tokens and their expiry.
//!
//! A token is 256 random bits, sent to the browser as an unpadded base64url cookie value
//! (43 characters) and stored only as its SHA-256 hash: a copy of the sessions table cannot
//! be replayed as cookies. The token is high-entropy, so an unsalted fast hash is enough;
//! that also keeps the hash usable as the table's lookup key. Timeouts follow OWASP's
//! Session Management Cheat Sheet ("Session Expiration"): an idle timeout for a walked-away
//! desk, and an absolute one so a stolen cookie dies at the end of the working day.

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use chrono::{DateTime, TimeDelta, Utc};
use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Bytes of randomness in a token: 256 bits.
const TOKEN_BYTES: usize = 32;
/// Length of the cookie value: 32 bytes in unpadded base64url.
const COOKIE_VALUE_CHARS: usize = 43;

/// A cookie value that cannot be a session token. The API answers it like an unknown
/// session (sign in again); it carries no part of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("session cookie is not a well-formed token")]
pub struct MalformedToken;

/// A session token in clear: what the browser holds. Zeroed when dropped, hidden from
/// `Debug`, no `Display`. The server keeps only [`SessionToken::hash`].
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SessionToken([u8; TOKEN_BYTES]);

impl SessionToken {
    /// A new token from a cryptographically secure generator.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Reads a cookie value. Decoding is constant-time (`base64ct`), and anything but
    /// exactly 43 characters of canonical unpadded base64url is refused.
    pub fn from_cookie_value(value: &str) -> Result<Self, MalformedToken> {
        if value.len() != COOKIE_VALUE_CHARS {
            return Err(MalformedToken);
        }
        let mut bytes = [0u8; TOKEN_BYTES];
        let decoded = Base64UrlUnpadded::decode(value, &mut bytes).map_err(|_| MalformedToken)?;
        if decoded.len() != TOKEN_BYTES {
            return Err(MalformedToken);
        }
        Ok(Self(bytes))
    }

    /// The value for the `Set-Cookie` header (set it `Secure; HttpOnly; SameSite=Lax` or
    /// stricter). Zeroed when dropped.
    pub fn to_cookie_value(&self) -> Zeroizing<String> {
        Zeroizing::new(Base64UrlUnpadded::encode_string(&self.0))
    }

    /// The hash the server stores and looks sessions up by.
    pub fn hash(&self) -> SessionTokenHash {
        SessionTokenHash(Sha256::digest(self.0).into())
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// SHA-256 of a session token: the sessions table's key. Not a secret (it cannot be turned
/// back into a cookie), but `Debug` still shows only a prefix, enough to correlate.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SessionTokenHash(#[serde(with = "crate::hex::array")] [u8; 32]);

impl SessionTokenHash {
    /// The hash from its 32 stored bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes to store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, for stores that keep text.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }

    /// The hash from 64 hex digits, or `None`.
    pub fn from_hex(text: &str) -> Option<Self> {
        crate::hex::decode(text).map(Self)
    }
}

impl fmt::Debug for SessionTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionTokenHash({}…)", crate::hex::encode(&self.0[..4]))
    }
}

/// Session timeouts. `Default` is what the hub uses; settings may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionPolicy {
    /// A session unused for this many seconds ends: 30 minutes, the upper end of OWASP's
    /// range for applications of this kind, since registry work comes in bursts between
    /// visitors at the counter.
    pub idle_timeout_secs: u64,
    /// A session ends this many seconds after sign-in whatever its use: 9 hours, one
    /// office working day, so every day starts with a fresh password and TOTP.
    pub absolute_timeout_secs: u64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 30 * 60,
            absolute_timeout_secs: 9 * 60 * 60,
        }
    }
}

/// Why a session is no longer valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionExpired {
    /// Unused for longer than the idle timeout.
    #[error("session expired after inactivity")]
    Idle,
    /// Older than the absolute timeout.
    #[error("session reached its maximum lifetime")]
    Absolute,
}

/// The two instants a session's validity depends on. Stored beside the token hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionTimes {
    /// When the operator signed in (with both factors).
    pub created_at: DateTime<Utc>,
    /// The last request made with the session.
    pub last_seen_at: DateTime<Utc>,
}

impl SessionTimes {
    /// A session that starts at `now`.
    pub fn start(now: DateTime<Utc>) -> Self {
        Self {
            created_at: now,
            last_seen_at: now,
        }
    }

    /// Whether the session is still valid at `now`. The absolute limit is checked first:
    /// it is the answer that activity cannot change. A `last_seen_at` or `created_at` after
    /// `now` (clocks stepped back) counts as no time elapsed.
    pub fn check(&self, policy: &SessionPolicy, now: DateTime<Utc>) -> Result<(), SessionExpired> {
        if elapsed_reaches(self.created_at, now, policy.absolute_timeout_secs) {
            return Err(SessionExpired::Absolute);
        }
        if elapsed_reaches(self.last_seen_at, now, policy.idle_timeout_secs) {
            return Err(SessionExpired::Idle);
        }
        Ok(())
    }

    /// The times after a request at `now`, to store after a successful [`SessionTimes::check`].
    pub fn touched(&self, now: DateTime<Utc>) -> Self {
        Self {
            created_at: self.created_at,
            last_seen_at: now.max(self.last_seen_at),
        }
    }

    /// When the session ends if it is not used again: the cookie's `Expires` and the
    /// moment a cleanup job may delete the row.
    pub fn expires_at(&self, policy: &SessionPolicy) -> DateTime<Utc> {
        let end = |from: DateTime<Utc>, secs: u64| {
            i64::try_from(secs)
                .ok()
                .and_then(TimeDelta::try_seconds)
                .and_then(|limit| from.checked_add_signed(limit))
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        end(self.created_at, policy.absolute_timeout_secs)
            .min(end(self.last_seen_at, policy.idle_timeout_secs))
    }
}

/// Whether at least `limit_secs` seconds separate `from` and `now`.
fn elapsed_reaches(from: DateTime<Utc>, now: DateTime<Utc>, limit_secs: u64) -> bool {
    let elapsed = (now - from).num_seconds().max(0);
    u64::try_from(elapsed).is_ok_and(|elapsed| elapsed >= limit_secs)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000, 0).expect("valid timestamp")
    }

    fn mins(m: i64) -> DateTime<Utc> {
        t0() + TimeDelta::minutes(m)
    }

    fn token() -> SessionToken {
        SessionToken::generate(&mut ChaCha20Rng::seed_from_u64(5))
    }

    #[test]
    fn cookie_values_round_trip_and_hash_stably() {
        let token = token();
        let cookie = token.to_cookie_value();
        assert_eq!(cookie.len(), 43);
        assert!(
            cookie
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let back = SessionToken::from_cookie_value(&cookie).expect("well-formed");
        assert_eq!(back, token);
        assert_eq!(back.hash(), token.hash());
        assert_eq!(
            token.hash().as_bytes(),
            &<[u8; 32]>::from(Sha256::digest(token.0))
        );
    }

    #[test]
    fn tokens_differ_and_so_do_their_hashes() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let a = SessionToken::generate(&mut rng);
        let b = SessionToken::generate(&mut rng);
        assert_ne!(a, b);
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn malformed_cookie_values_are_refused() {
        let cookie = token().to_cookie_value();
        let cases = [
            String::new(),
            cookie[..42].to_owned(),
            format!("{}A", cookie.as_str()),
            format!("{}=", &cookie[..42]),
            format!("{}+", &cookie[..42]),
            // 43 characters whose last one carries bits beyond the 256th: not canonical.
            format!("{}B", &cookie[..42]),
        ];
        for case in cases {
            if case == cookie.as_str() {
                continue;
            }
            assert_eq!(
                SessionToken::from_cookie_value(&case),
                Err(MalformedToken),
                "{case}"
            );
        }
    }

    #[test]
    fn hashes_round_trip_through_hex_and_serde() {
        let hash = token().hash();
        assert_eq!(SessionTokenHash::from_hex(&hash.to_hex()), Some(hash));
        assert_eq!(SessionTokenHash::from_bytes(*hash.as_bytes()), hash);
        assert_eq!(SessionTokenHash::from_hex("00"), None);
        let json = serde_json::to_string(&hash).expect("serialize");
        assert_eq!(json, format!("\"{}\"", hash.to_hex()));
        assert_eq!(
            serde_json::from_str::<SessionTokenHash>(&json).expect("deserialize"),
            hash
        );
    }

    #[test]
    fn idle_sessions_expire() {
        let policy = SessionPolicy::default();
        let times = SessionTimes::start(t0());
        assert_eq!(times.check(&policy, mins(29)), Ok(()));
        assert_eq!(times.check(&policy, mins(30)), Err(SessionExpired::Idle));
        // Activity keeps it alive.
        let touched = times.touched(mins(29));
        assert_eq!(touched.check(&policy, mins(58)), Ok(()));
        assert_eq!(touched.check(&policy, mins(59)), Err(SessionExpired::Idle));
    }

    #[test]
    fn busy_sessions_still_end_at_the_absolute_limit() {
        let policy = SessionPolicy::default();
        let mut times = SessionTimes::start(t0());
        for m in (10..9 * 60).step_by(10) {
            assert_eq!(times.check(&policy, mins(m)), Ok(()), "minute {m}");
            times = times.touched(mins(m));
        }
        assert_eq!(
            times.check(&policy, mins(9 * 60)),
            Err(SessionExpired::Absolute)
        );
        assert_eq!(times.expires_at(&policy), mins(9 * 60));
    }

    #[test]
    fn expiry_is_the_earlier_of_the_two_limits() {
        let policy = SessionPolicy::default();
        let times = SessionTimes::start(t0());
        assert_eq!(times.expires_at(&policy), mins(30));
        let late = SessionTimes {
            created_at: t0(),
            last_seen_at: mins(9 * 60 - 5),
        };
        assert_eq!(late.expires_at(&policy), mins(9 * 60));
    }

    #[test]
    fn clocks_stepping_back_do_not_expire_or_rewind_a_session() {
        let policy = SessionPolicy::default();
        let times = SessionTimes::start(mins(10));
        assert_eq!(times.check(&policy, t0()), Ok(()));
        assert_eq!(times.touched(t0()).last_seen_at, mins(10));
    }

    #[test]
    fn tokens_never_appear_in_debug_output() {
        let token = token();
        let cookie = token.to_cookie_value();
        let hash = token.hash();
        let shown = format!("{token:?} {hash:?}");
        assert!(!shown.contains(cookie.as_str()), "{shown}");
        assert!(!shown.contains(&hash.to_hex()), "{shown}");
        assert!(shown.contains(&hash.to_hex()[..8]), "{shown}");
    }
}
