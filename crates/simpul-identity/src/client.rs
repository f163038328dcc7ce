//! Machine-client credentials for the OAuth 2.0 client-credentials grant (RFC 6749 §4.4):
//! client ids, client secrets and their stored hashes, and the scope rules of §3.3.
//!
//! An agency system (an OPD's application, a kelurahan's batch job) authenticates as a
//! *client*: a [`ClientId`] and a [`ClientSecret`] generated here, shown once, and stored
//! only as a [`ClientSecretHash`]. In exchange it gets a short-lived access token
//! ([`crate::jwt`]) carrying a [`Scope`] no wider than the one the client was granted.
//!
//! Why SHA-256 and not argon2 for the secret: a client secret is 256 random bits, not a
//! word a person chose, so there is no dictionary for a slow hash to slow down; brute force
//! against 2^256 is out of reach at any hash speed. A fast hash also keeps every token
//! request cheap, which matters because machine clients ask far more often than operators
//! sign in. The hash is prefixed with a domain label so the same bytes hashed for another
//! purpose (a session token, say) can never match.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use base64ct::{Base64UrlUnpadded, Encoding};
use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Shortest client id: three characters, so ids stay readable (`opd`, `bkd`).
pub const CLIENT_ID_MIN_LEN: usize = 3;
/// Longest client id: 64 characters fit `dinas-kependudukan.kota-madiun.batch-1` with room.
pub const CLIENT_ID_MAX_LEN: usize = 64;
/// Bytes of randomness in a client secret: 256 bits.
const SECRET_BYTES: usize = 32;
/// Length of a secret's text: 32 bytes in unpadded base64url.
const SECRET_TEXT_CHARS: usize = 43;
/// Separates client-secret hashes from any other SHA-256 use of the same bytes.
const SECRET_DOMAIN: &[u8] = b"simpul/client-secret/v1\0";
/// Longest scope string accepted, in bytes. A client is granted a handful of scopes; this
/// bounds the work a hostile request can cause and keeps a token's `scope` claim small.
pub const MAX_SCOPE_LEN: usize = 1024;

/// The name of a machine client, as it appears in Basic authentication and in the `sub` and
/// `client_id` claims of its tokens.
///
/// [`CLIENT_ID_MIN_LEN`] to [`CLIENT_ID_MAX_LEN`] characters from `a-z`, `0-9`, `-`, `_` and
/// `.`. These are all URL-unreserved (RFC 3986 §2.3), so an id needs no escaping in a form
/// body or in `client_secret_basic` (RFC 6749 §2.3.1), and none is `:`, which separates id
/// from secret in Basic authentication.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

/// Why a client id was refused. It never quotes the id: a malformed one may be a secret
/// pasted into the wrong field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientIdError {
    /// Shorter than [`CLIENT_ID_MIN_LEN`] or longer than [`CLIENT_ID_MAX_LEN`].
    #[error("client id must have {CLIENT_ID_MIN_LEN} to {CLIENT_ID_MAX_LEN} characters")]
    Length,
    /// A character outside `a-z`, `0-9`, `-`, `_`, `.`.
    #[error("client id may hold only a-z, 0-9, '-', '_' and '.'")]
    BadCharacter,
}

impl ClientId {
    /// Checks and wraps a client id.
    pub fn parse(id: &str) -> Result<Self, ClientIdError> {
        // Length first, in bytes: the alphabet is ASCII, so for a valid id bytes are
        // characters, and a long non-ASCII input is refused without scanning it.
        if !(CLIENT_ID_MIN_LEN..=CLIENT_ID_MAX_LEN).contains(&id.len()) {
            return Err(ClientIdError::Length);
        }
        let allowed =
            |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.');
        if !id.bytes().all(allowed) {
            return Err(ClientIdError::BadCharacter);
        }
        Ok(Self(id.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ClientId {
    type Err = ClientIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ClientId {
    type Error = ClientIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ClientId> for String {
    fn from(id: ClientId) -> Self {
        id.0
    }
}

/// A presented client secret that was not accepted. The token endpoint answers every
/// variant with `invalid_client` (RFC 6749 §5.2); the variants are for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientSecretRejection {
    /// Not 43 characters of canonical unpadded base64url: cannot be a secret we issued.
    #[error("client secret is not in the expected format")]
    Malformed,
    /// Well-formed, but not this client's secret.
    #[error("client secret does not match")]
    Mismatch,
}

impl ClientSecretRejection {
    /// The OAuth error code for the token endpoint's answer (RFC 6749 §5.2).
    pub fn code(&self) -> &'static str {
        "invalid_client"
    }
}

/// A client secret in clear: shown once to the administrator who creates the client, then
/// only ever presented by the client. Zeroed when dropped, hidden from `Debug`, no
/// `Display`; the server keeps only [`ClientSecret::hash`].
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct ClientSecret([u8; SECRET_BYTES]);

impl ClientSecret {
    /// A new secret from a cryptographically secure generator.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The secret as the administrator copies it: 43 characters of unpadded base64url,
    /// which need no escaping in a form body or in Basic authentication. Zeroed when dropped.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(Base64UrlUnpadded::encode_string(&self.0))
    }

    /// Reads a presented secret. Decoding is constant-time (`base64ct`), and anything but
    /// exactly 43 characters of canonical unpadded base64url is refused.
    pub fn from_text(text: &str) -> Result<Self, ClientSecretRejection> {
        if text.len() != SECRET_TEXT_CHARS {
            return Err(ClientSecretRejection::Malformed);
        }
        let mut bytes = [0u8; SECRET_BYTES];
        let decoded = Base64UrlUnpadded::decode(text, &mut bytes)
            .map_err(|_| ClientSecretRejection::Malformed)?
            .len();
        if decoded != SECRET_BYTES {
            bytes.zeroize();
            return Err(ClientSecretRejection::Malformed);
        }
        Ok(Self(bytes))
    }

    /// The hash the server stores for this client.
    pub fn hash(&self) -> ClientSecretHash {
        let mut hasher = Sha256::new();
        hasher.update(SECRET_DOMAIN);
        hasher.update(self.0);
        ClientSecretHash(hasher.finalize().into())
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

/// SHA-256 of a domain label and a client secret: what the clients table stores. Not a
/// secret (it cannot be turned back into one), but `Debug` still shows only a prefix.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecretHash(#[serde(with = "crate::hex::array")] [u8; 32]);

impl ClientSecretHash {
    /// Checks a presented secret against this hash. The comparison of the two hashes is
    /// constant-time (`subtle`), so response timing says nothing about how many leading
    /// bytes matched.
    pub fn verify(&self, presented: &str) -> Result<(), ClientSecretRejection> {
        let presented = ClientSecret::from_text(presented)?;
        if bool::from(presented.hash().0.ct_eq(&self.0)) {
            Ok(())
        } else {
            Err(ClientSecretRejection::Mismatch)
        }
    }

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

impl fmt::Debug for ClientSecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientSecretHash({}…)", crate::hex::encode(&self.0[..4]))
    }
}

/// A requested scope that cannot be granted. The token endpoint answers every variant with
/// `invalid_scope` (RFC 6749 §5.2). Messages never quote the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// Not a space-separated list of scope tokens (RFC 6749 §3.3), or longer than
    /// [`MAX_SCOPE_LEN`].
    #[error("scope is not a space-separated list of scope tokens")]
    Malformed,
    /// Names a scope the client was not granted.
    #[error("requested scope exceeds the scope granted to the client")]
    NotGranted,
}

impl ScopeError {
    /// The OAuth error code for the token endpoint's answer (RFC 6749 §5.2).
    pub fn code(&self) -> &'static str {
        "invalid_scope"
    }
}

/// A set of scope tokens, as in the `scope` parameter and claim: `penduduk:read wilayah:read`.
///
/// Written as the tokens in sorted order joined by single spaces, so equal sets always print
/// the same. Serialized as that string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// Parses a space-separated scope string. Follows the grammar of RFC 6749 §3.3 exactly:
    /// tokens of `%x21 / %x23-5B / %x5D-7E` (printable ASCII but space, `"` and `\`),
    /// separated by single spaces. A repeated token counts once (the order and repetition
    /// of tokens carry no meaning). The empty string is the empty set.
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        if text.len() > MAX_SCOPE_LEN {
            return Err(ScopeError::Malformed);
        }
        if text.is_empty() {
            return Ok(Self::default());
        }
        let is_token_char =
            |b: u8| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b);
        let mut tokens = BTreeSet::new();
        for token in text.split(' ') {
            // An empty token means a leading, trailing or doubled space.
            if token.is_empty() || !token.bytes().all(is_token_char) {
                return Err(ScopeError::Malformed);
            }
            tokens.insert(token.to_owned());
        }
        Ok(Self(tokens))
    }

    /// What a token request gets, with `self` the scope granted to the client (RFC 6749
    /// §3.3): an absent or empty `requested` gets the whole grant (our pre-defined default);
    /// otherwise every requested token must be granted, and the token gets exactly the
    /// request. A request beyond the grant is refused rather than narrowed, so a client
    /// learns at once that it asked for something it may not have.
    pub fn grant(&self, requested: Option<&str>) -> Result<Scope, ScopeError> {
        let requested = match requested {
            None | Some("") => return Ok(self.clone()),
            Some(text) => Self::parse(text)?,
        };
        if requested.0.is_subset(&self.0) {
            Ok(requested)
        } else {
            Err(ScopeError::NotGranted)
        }
    }

    /// Whether the set holds this token: the check a handler makes before it serves a
    /// token-authenticated request.
    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tokens, in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, token) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(token)?;
        }
        Ok(())
    }
}

impl FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Scope {
    type Error = ScopeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> Self {
        scope.to_string()
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
