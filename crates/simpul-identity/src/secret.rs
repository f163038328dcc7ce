//! [`SecretText`]: a secret that arrives as text (a password or code in a request, a client
//! secret in a form, key material in a setting), deserialised like a string, never shown by
//! `Debug`, and wiped from memory when dropped.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

/// A secret string. `Debug` prints `<redacted>` (or `""` when empty, so a setting that is
/// simply unset reads as such); there is no `Display`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    /// The secret, for the one place that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A copy that is wiped when dropped, for code that takes `Zeroizing<String>`.
    pub fn to_zeroizing(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.clone())
    }
}

impl std::ops::Deref for SecretText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Drop for SecretText {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "<redacted>"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let secret: SecretText = serde_json::from_str("\"kata-sandi-rahasia\"").expect("json");
        assert_eq!(secret.expose(), "kata-sandi-rahasia");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(format!("{:?}", SecretText::default()), "\"\"");
    }
}
