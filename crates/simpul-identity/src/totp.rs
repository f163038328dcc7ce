//! Time-based one-time passwords (RFC 6238, <https://www.rfc-editor.org/rfc/rfc6238>):
//! the shared secret, the `otpauth://` enrolment URI and its QR code, and verification with
//! one step of clock skew and replay protection.
//!
//! The parameters are the ones every authenticator app supports: HMAC-SHA-1, six digits,
//! 30-second steps (RFC 6238 §5.2 and §4.1). SHA-1's collision weakness does not affect
//! HMAC (RFC 4226 Appendix B.2).
//!
//! Replay protection (RFC 6238 §5.2, "the verifier MUST NOT accept the second attempt of the
//! OTP after the successful validation has been issued for the first OTP"): the caller
//! stores the time step of the last accepted code per account and passes it in; a code from
//! that step or an earlier one is refused, and an accepted code returns the step to store.

use std::fmt;

use chrono::{DateTime, Utc};
use qrcode::QrCode;
use qrcode::render::svg;
use rand::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The issuer shown in authenticator apps, and the label prefix of the enrolment URI.
pub const TOTP_ISSUER: &str = "simpul";
/// Digits per code. Six is what every authenticator app shows by default.
pub const TOTP_DIGITS: u8 = 6;
/// Seconds per time step: RFC 6238 §5.2's recommended 30.
pub const TOTP_STEP_SECONDS: u64 = 30;
/// Steps accepted on either side of the current one, for clock drift and typing time:
/// RFC 6238 §5.2 recommends at most one.
pub const TOTP_SKEW_STEPS: u64 = 1;
/// Length of a generated secret in bytes: 160 bits, as RFC 4226 §4 recommends (R6).
pub const TOTP_SECRET_BYTES: usize = 20;
/// Shortest secret accepted when loading a stored one: RFC 4226 §4 requires 128 bits.
const MIN_SECRET_BYTES: usize = 16;
/// Longest secret accepted when loading a stored one; HMAC-SHA-1 gains nothing beyond its
/// 64-byte block.
const MAX_SECRET_BYTES: usize = 64;
/// Longest account name put in a URI; keeps the QR code small enough to scan easily.
const MAX_ACCOUNT_NAME_CHARS: usize = 64;

/// Why a TOTP value could not be built or rendered. No variant carries the secret, and
/// none carries the account name either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// A stored secret is shorter than 128 bits or longer than 512 bits.
    #[error("TOTP secret must be between 16 and 64 bytes")]
    SecretLength,
    /// The account name is empty, too long, or contains `:` or a control character (the
    /// `otpauth://` label uses `:` to separate issuer and account).
    #[error("account name is not usable in an otpauth URI")]
    AccountName,
    /// `now` is before 1970, so there is no RFC 6238 time step for it.
    #[error("time is before the Unix epoch")]
    ClockBeforeEpoch,
    /// The QR code could not be built (the URI is too long for a QR code).
    #[error("enrolment URI does not fit in a QR code")]
    QrCode,
    /// The TOTP implementation refused the parameters; a programming error.
    #[error("TOTP parameters rejected")]
    Internal,
}

/// Why a submitted code was refused. The API shows all of them to the user as one "invalid
/// code" answer; they are told apart for the access log and suspicious-access rules (a
/// replay suggests a code read over someone's shoulder or phished).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpRejection {
    /// Not six ASCII digits (spaces are ignored).
    #[error("code is not six digits")]
    Malformed,
    /// No step in the accepted window has this code.
    #[error("code is not valid now")]
    Invalid,
    /// The code is valid for a step at or before the last accepted one: it was used.
    #[error("code was already used")]
    Replayed,
    /// `now` is before 1970.
    #[error("time is before the Unix epoch")]
    ClockBeforeEpoch,
}

/// A TOTP shared secret. It is zeroed when dropped and `Debug` does not show it.
///
/// The store keeps it encrypted (the crypto crate's AEAD), since unlike a password it must
/// be read back to verify codes.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    /// A new 160-bit secret from a cryptographically secure generator.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = vec![0u8; TOTP_SECRET_BYTES];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// A stored secret (after decryption): 16 to 64 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TotpError> {
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            return Err(TotpError::SecretLength);
        }
        Ok(Self(bytes.to_vec()))
    }

    /// The raw secret, to be encrypted and stored.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A stored secret in base32 (what [`TotpSecret::to_base32`] wrote).
    pub fn from_base32(text: &str) -> Result<Self, TotpError> {
        // totp-rs's Secret zeroes itself on drop (feature `zeroize`).
        let secret = totp_rs::Secret::try_from_base32(text).map_err(|_| TotpError::SecretLength)?;
        Self::from_bytes(secret.as_ref())
    }

    /// The secret in unpadded base32 (RFC 4648), for people who type it into their app
    /// instead of scanning the QR code. Zeroed when dropped.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(totp_rs::Secret::from(self.0.as_slice()).to_base32())
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// One account's TOTP generator and verifier.
pub struct Totp {
    inner: totp_rs::Totp,
}

impl fmt::Debug for Totp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // totp_rs's own Debug redacts the secret but prints the account name.
        f.write_str("Totp(<redacted>)")
    }
}

impl Totp {
    /// The TOTP of `account_name` (the operator's username, shown in the authenticator app
    /// next to the issuer [`TOTP_ISSUER`]).
    pub fn new(secret: &TotpSecret, account_name: &str) -> Result<Self, TotpError> {
        Self::with_digits(secret, account_name, TOTP_DIGITS)
    }

    /// Like [`Totp::new`] with another code length; the RFC 6238 test vectors use eight.
    fn with_digits(secret: &TotpSecret, account_name: &str, digits: u8) -> Result<Self, TotpError> {
        let valid_name = !account_name.is_empty()
            && account_name.chars().count() <= MAX_ACCOUNT_NAME_CHARS
            && !account_name.chars().any(|c| c == ':' || c.is_control());
        if !valid_name {
            return Err(TotpError::AccountName);
        }
        let inner = totp_rs::Builder::new()
            .with_algorithm(totp_rs::Algorithm::SHA1)
            .with_digits(digits)
            .with_step_duration(TOTP_STEP_SECONDS)
            .with_skew(TOTP_SKEW_STEPS as u16)
            .with_secret(secret.as_bytes())
            .with_issuer(Some(TOTP_ISSUER))
            .with_account_name(account_name)
            .build()
            .map_err(|_| TotpError::Internal)?;
        Ok(Self { inner })
    }

    /// The `otpauth://totp/simpul:<account>?secret=...&issuer=simpul` URI that
    /// authenticator apps enrol from (the Key Uri Format of Google Authenticator, which
    /// the other apps follow). It contains the secret: show it once, never log it.
    pub fn enrolment_uri(&self) -> Result<Zeroizing<String>, TotpError> {
        self.inner
            .to_url()
            .map(Zeroizing::new)
            .map_err(|_| TotpError::Internal)
    }

    /// The enrolment URI as a QR code in SVG, without an XML prolog so it can be placed
    /// directly in an HTML page. Black modules on white, 4-module quiet zone, at least
    /// 200 px wide. It contains the secret: show it once, never log or cache it.
    pub fn enrolment_qr_svg(&self) -> Result<Zeroizing<String>, TotpError> {
        let uri = self.enrolment_uri()?;
        let code = QrCode::new(uri.as_bytes()).map_err(|_| TotpError::QrCode)?;
        let svg = Zeroizing::new(
            code.render::<svg::Color<'_>>()
                .min_dimensions(200, 200)
                .build(),
        );
        let body = svg.find("<svg").map_or(svg.as_str(), |start| &svg[start..]);
        Ok(Zeroizing::new(body.to_owned()))
    }

    /// The code for the time step containing `now` (for tests and the demo's printed
    /// instructions).
    pub fn code_at(&self, now: DateTime<Utc>) -> Result<Zeroizing<String>, TotpError> {
        let seconds = unix_seconds(now).ok_or(TotpError::ClockBeforeEpoch)?;
        Ok(Zeroizing::new(self.inner.generate(seconds).to_string()))
    }

    /// Checks `code` at time `now`, accepting the current step and [`TOTP_SKEW_STEPS`] on
    /// either side, and refusing any step at or before `last_accepted_step` (the value the
    /// previous successful call returned, `None` before the first). On success returns the
    /// step the caller must store as the new `last_accepted_step`, in the same transaction
    /// that signs the operator in.
    ///
    /// Every step of the window is computed and compared in constant time whatever
    /// matches, so timing does not reveal which step a guess hit.
    pub fn verify(
        &self,
        code: &str,
        now: DateTime<Utc>,
        last_accepted_step: Option<u64>,
    ) -> Result<u64, TotpRejection> {
        let seconds = unix_seconds(now).ok_or(TotpRejection::ClockBeforeEpoch)?;
        let digits: Zeroizing<String> =
            Zeroizing::new(code.chars().filter(|c| !c.is_whitespace()).collect());
        if digits.len() != usize::from(self.inner.digits())
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(TotpRejection::Malformed);
        }
        let current = seconds / TOTP_STEP_SECONDS;
        let mut accepted = None;
        let mut replayed = false;
        for step in current.saturating_sub(TOTP_SKEW_STEPS)..=current + TOTP_SKEW_STEPS {
            let expected =
                Zeroizing::new(self.inner.generate(step * TOTP_STEP_SECONDS).to_string());
            if bool::from(expected.as_bytes().ct_eq(digits.as_bytes())) {
                if last_accepted_step.is_some_and(|last| step <= last) {
                    replayed = true;
                } else {
                    // Ascending order: keep the latest matching step, so that storing it
                    // also shuts out any earlier step that happens to share the code.
                    accepted = Some(step);
                }
            }
        }
        match accepted {
            Some(step) => Ok(step),
            None if replayed => Err(TotpRejection::Replayed),
            None => Err(TotpRejection::Invalid),
        }
    }
}

fn unix_seconds(now: DateTime<Utc>) -> Option<u64> {
    u64::try_from(now.timestamp()).ok()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use rstest::rstest;

    use super::*;

    /// The ASCII secret of RFC 6238 Appendix B for HMAC-SHA-1 (and of RFC 4226 Appendix D).
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).expect("valid timestamp")
    }

    fn rfc_totp(digits: u8) -> Totp {
        let secret = TotpSecret::from_bytes(RFC_SECRET).expect("20 bytes");
        Totp::with_digits(&secret, "rfc", digits).expect("valid")
    }

    /// RFC 6238 Appendix B, the SHA-1 rows of the test-vector table (8 digits).
    #[rstest]
    #[case(59, "94287082")]
    #[case(1_111_111_109, "07081804")]
    #[case(1_111_111_111, "14050471")]
    #[case(1_234_567_890, "89005924")]
    #[case(2_000_000_000, "69279037")]
    #[case(20_000_000_000, "65353130")]
    fn rfc6238_appendix_b_sha1_vectors(#[case] time: i64, #[case] expected: &str) {
        let totp = rfc_totp(8);
        assert_eq!(totp.code_at(at(time)).expect("code").as_str(), expected);
        assert!(totp.verify(expected, at(time), None).is_ok());
    }

    /// The six-digit codes our operators use, for the same secret: RFC 4226 Appendix D
    /// lists HOTP values for counters 0, 1 and 2 (TOTP steps of times 0, 30 and 60).
    #[rstest]
    #[case(0, "755224")]
    #[case(59, "287082")]
    #[case(60, "359152")]
    fn six_digit_codes_match_rfc4226_appendix_d(#[case] time: i64, #[case] expected: &str) {
        let totp = rfc_totp(TOTP_DIGITS);
        assert_eq!(totp.code_at(at(time)).expect("code").as_str(), expected);
    }

    #[test]
    fn a_code_is_accepted_once_and_then_refused_as_replayed() {
        let totp = rfc_totp(TOTP_DIGITS);
        // 59 s is step 1, whose code is 287082.
        let step = totp.verify("287082", at(59), None).expect("accepted");
        assert_eq!(step, 1);
        assert_eq!(
            totp.verify("287082", at(59), Some(step)),
            Err(TotpRejection::Replayed)
        );
        // The next step's code is still accepted and moves the marker forward.
        assert_eq!(totp.verify("359152", at(61), Some(step)), Ok(2));
    }

    #[test]
    fn codes_from_steps_before_the_last_accepted_one_are_refused() {
        let totp = rfc_totp(TOTP_DIGITS);
        // At 61 s (step 2) the window is steps 1..=3; step 1's code was valid but an
        // attacker replaying it after step 2 was used must be refused.
        assert_eq!(
            totp.verify("287082", at(61), Some(2)),
            Err(TotpRejection::Replayed)
        );
    }

    #[test]
    fn one_step_of_skew_is_accepted_and_two_are_not() {
        let totp = rfc_totp(TOTP_DIGITS);
        // Step 2's code (359152) at step 1 (a fast phone), at step 3 (a slow typist)...
        assert_eq!(totp.verify("359152", at(45), None), Ok(2));
        assert_eq!(totp.verify("359152", at(95), None), Ok(2));
        // ...but not two steps away.
        assert_eq!(
            totp.verify("359152", at(0), None),
            Err(TotpRejection::Invalid)
        );
        assert_eq!(
            totp.verify("359152", at(120), None),
            Err(TotpRejection::Invalid)
        );
    }

    #[rstest]
    #[case("28708")]
    #[case("2870822")]
    #[case("28708a")]
    #[case("+28708")]
    #[case("")]
    #[case("２８７０８２")] // full-width digits are not ASCII
    fn malformed_codes_are_refused(#[case] code: &str) {
        assert_eq!(
            rfc_totp(TOTP_DIGITS).verify(code, at(59), None),
            Err(TotpRejection::Malformed)
        );
    }

    #[test]
    fn spaces_inside_a_code_are_ignored() {
        assert_eq!(
            rfc_totp(TOTP_DIGITS).verify(" 287 082 ", at(59), None),
            Ok(1)
        );
    }

    #[test]
    fn wrong_codes_and_times_before_1970_are_refused() {
        let totp = rfc_totp(TOTP_DIGITS);
        assert_eq!(
            totp.verify("000000", at(59), None),
            Err(TotpRejection::Invalid)
        );
        assert_eq!(
            totp.verify("287082", at(-1), None),
            Err(TotpRejection::ClockBeforeEpoch)
        );
    }

    #[test]
    fn generated_secrets_are_160_bits_and_differ() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let a = TotpSecret::generate(&mut rng);
        let b = TotpSecret::generate(&mut rng);
        assert_eq!(a.as_bytes().len(), 20);
        assert_ne!(a, b);
    }

    #[test]
    fn stored_secrets_must_have_a_sane_length() {
        assert_eq!(
            TotpSecret::from_bytes(&[7; 15]),
            Err(TotpError::SecretLength)
        );
        assert_eq!(
            TotpSecret::from_bytes(&[7; 65]),
            Err(TotpError::SecretLength)
        );
        assert!(TotpSecret::from_bytes(&[7; 16]).is_ok());
        let secret = TotpSecret::from_bytes(&[9; 20]).expect("20 bytes");
        let back = TotpSecret::from_base32(&secret.to_base32()).expect("round trip");
        assert_eq!(back.as_bytes(), secret.as_bytes());
        assert!(TotpSecret::from_base32("not base32!").is_err());
    }

    #[rstest]
    #[case("")]
    #[case("evil:admin")]
    #[case("line\nbreak")]
    fn unusable_account_names_are_refused(#[case] name: &str) {
        let secret = TotpSecret::from_bytes(RFC_SECRET).expect("20 bytes");
        assert_eq!(
            Totp::new(&secret, name).unwrap_err(),
            TotpError::AccountName
        );
    }

    #[test]
    fn enrolment_uri_names_issuer_account_and_secret() {
        let secret = TotpSecret::from_bytes(RFC_SECRET).expect("20 bytes");
        let totp = Totp::new(&secret, "siti@gambir").expect("valid");
        // Base32 of "12345678901234567890" is GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ.
        assert_eq!(
            totp.enrolment_uri().expect("uri").as_str(),
            "otpauth://totp/simpul:siti%40gambir?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=simpul"
        );
        assert_eq!(
            secret.to_base32().as_str(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }

    /// Reads the SVG back into pixels and decodes it with an independent QR decoder.
    #[test]
    fn enrolment_qr_code_decodes_to_the_uri() {
        let secret = TotpSecret::generate(&mut ChaCha20Rng::seed_from_u64(3));
        let totp = Totp::new(&secret, "budi.kecamatan").expect("valid");
        let svg = totp.enrolment_qr_svg().expect("svg");
        assert!(svg.starts_with("<svg"), "no XML prolog: {}", &svg[..40]);
        let decoded = decode_svg_qr(&svg);
        assert_eq!(decoded, totp.enrolment_uri().expect("uri").as_str());
    }

    /// Rasterises the `M{x} {y}h{w}v{h}H{x}V{y}` rectangles that `qrcode` draws.
    fn decode_svg_qr(svg: &str) -> String {
        let number = |name: &str| -> usize {
            let start = svg.find(&format!(" {name}=\"")).expect("attribute") + name.len() + 3;
            let end = start + svg[start..].find('"').expect("closing quote");
            svg[start..end].parse().expect("number")
        };
        let (width, height) = (number("width"), number("height"));
        let path_start = svg.find(" d=\"").expect("path") + 4;
        let path_end = path_start + svg[path_start..].find('"').expect("closing quote");
        let mut dark = vec![false; width * height];
        for rect in svg[path_start..path_end]
            .split('M')
            .filter(|r| !r.is_empty())
        {
            let nums: Vec<usize> = rect
                .split(|c: char| !c.is_ascii_digit())
                .filter(|n| !n.is_empty())
                .map(|n| n.parse().expect("number"))
                .collect();
            let (x, y, w, h) = (nums[0], nums[1], nums[2], nums[3]);
            for row in y..y + h {
                for col in x..x + w {
                    dark[row * width + col] = true;
                }
            }
        }
        let mut image =
            rqrr::PreparedImage::prepare_from_bitmap(width, height, |x, y| dark[y * width + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code in the SVG");
        grids[0].decode().expect("decodable").1
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let secret = TotpSecret::from_bytes(RFC_SECRET).expect("20 bytes");
        let totp = Totp::new(&secret, "siti@gambir").expect("valid");
        let shown = format!("{secret:?} {totp:?}");
        assert!(!shown.contains("GEZDGNBV"), "{shown}");
        assert!(!shown.contains("1234567890"), "{shown}");
        assert!(!shown.contains("49, 50, 51"), "{shown}");
        assert!(!shown.contains("siti"), "{shown}");
    }
}
