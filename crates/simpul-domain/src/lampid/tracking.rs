//! The public tracking code a citizen uses to follow a submission.

use super::*;

/// Crockford's base-32 alphabet: digits and capitals without I, L, O and U, so a code read
/// aloud or copied by hand cannot be mistaken.
pub(super) const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The public tracking code a citizen uses to see a submission's status (only its state).
///
/// Eleven random symbols (55 bits from a caller-supplied random value, so the domain needs
/// no random source) and one Luhn mod 32 check symbol that catches a mistyped symbol and
/// most swaps of neighbours. It encodes no personal data, region or date. 55 bits make a
/// collision unlikely but not impossible: the store's unique index refuses one and the
/// caller draws again. Shown as `XXXX-XXXX-XXXX`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "7K3M-Q9XZ-4B2T"))]
#[serde(try_from = "String", into = "String")]
pub struct TrackingCode(String);

/// Why a tracking code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TrackingCodeError {
    #[error("kode lacak harus {} karakter, bukan {found}", TrackingCode::LEN)]
    Length { found: usize },
    #[error("karakter ke-{position} kode lacak tidak sah")]
    Character { position: usize },
    #[error("kode lacak salah ketik (digit pemeriksa tidak cocok)")]
    Checksum,
}

impl TrackingCodeError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Length { .. } => "tracking_code_length",
            Self::Character { .. } => "tracking_code_character",
            Self::Checksum => "tracking_code_checksum",
        }
    }
}

impl TrackingCode {
    /// Symbols in a code, the check symbol included.
    pub const LEN: usize = 12;

    /// The code for a random value; only its low 55 bits are used.
    pub fn from_random(random: u64) -> Self {
        let mut values = [0u8; Self::LEN];
        for (i, slot) in values[..Self::LEN - 1].iter_mut().enumerate() {
            // Five bits per symbol; the masked value is below 32, so the cast is exact.
            *slot = ((random >> (5 * i)) & 31) as u8;
        }
        values[Self::LEN - 1] = luhn_check(&values[..Self::LEN - 1]);
        Self(
            values
                .iter()
                .map(|&v| char::from(ALPHABET[usize::from(v)]))
                .collect(),
        )
    }

    /// Parses a code as a person types it: any case, with or without `-` and spaces, and
    /// O, I and L read as 0, 1 and 1.
    pub fn parse(input: &str) -> Result<Self, TrackingCodeError> {
        let symbols: Vec<char> = input.chars().filter(|c| *c != '-' && *c != ' ').collect();
        if symbols.len() != Self::LEN {
            return Err(TrackingCodeError::Length {
                found: symbols.len(),
            });
        }
        let mut values = [0u8; Self::LEN];
        for (i, c) in symbols.iter().enumerate() {
            values[i] = symbol_value(*c).ok_or(TrackingCodeError::Character { position: i + 1 })?;
        }
        if luhn_check(&values[..Self::LEN - 1]) != values[Self::LEN - 1] {
            return Err(TrackingCodeError::Checksum);
        }
        Ok(Self(
            values
                .iter()
                .map(|&v| char::from(ALPHABET[usize::from(v)]))
                .collect(),
        ))
    }

    /// The canonical form, without separators.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn symbol_value(c: char) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .and_then(|p| u8::try_from(p).ok())
}

/// The Luhn mod N check symbol (N = 32) for `values`: with it appended, the weighted sum
/// is a multiple of 32.
fn luhn_check(values: &[u8]) -> u8 {
    let mut sum = 0u32;
    let mut factor = 2;
    for &value in values.iter().rev() {
        let addend = factor * u32::from(value);
        sum += addend / 32 + addend % 32;
        factor = 3 - factor;
    }
    // The remainder is below 32, so the value fits a symbol.
    ((32 - sum % 32) % 32) as u8
}

impl fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, rest) = self.0.split_at(4);
        let (b, c) = rest.split_at(4);
        write!(f, "{a}-{b}-{c}")
    }
}

impl TryFrom<String> for TrackingCode {
    type Error = TrackingCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TrackingCode> for String {
    fn from(value: TrackingCode) -> Self {
        value.0
    }
}
