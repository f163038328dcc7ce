//! `simpul nik parse NIK…`: what a NIK says, or exactly which rule it breaks.
//!
//! One JSON object per line on standard output, in input order, so the output can be piped
//! into `jq` or a spreadsheet. The exit status is non-zero when any NIK was invalid.

use serde::Serialize;
use simpul_domain::wilayah::RegionDirectory;
use simpul_domain::{IdNumberError, KodeWilayah, Label, Nik, Sex};

/// The answer for one input.
#[derive(Debug, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Parsed {
    Valid {
        nik: String,
        valid: bool,
        kecamatan: KodeWilayah,
        #[serde(skip_serializing_if = "Option::is_none")]
        nama_kecamatan: Option<String>,
        jenis_kelamin: Sex,
        jenis_kelamin_label: &'static str,
        tanggal_lahir: Option<chrono::NaiveDate>,
        nomor_urut: u16,
    },
    Invalid {
        nik: String,
        valid: bool,
        kesalahan: IdNumberError,
        pesan: String,
    },
}

/// Parses one NIK against the master data, placing its century by `today`.
pub fn parse(input: &str, directory: &RegionDirectory, today: chrono::NaiveDate) -> Parsed {
    match Nik::parse(input, directory, today) {
        Ok(nik) => {
            let kecamatan = nik.district();
            Parsed::Valid {
                nik: input.to_owned(),
                valid: true,
                nama_kecamatan: directory.get(&kecamatan).map(|r| r.name.clone()),
                kecamatan,
                jenis_kelamin: nik.sex(),
                jenis_kelamin_label: nik.sex().label(),
                tanggal_lahir: nik.birth_date(today),
                nomor_urut: nik.serial(),
            }
        }
        Err(error) => Parsed::Invalid {
            nik: input.to_owned(),
            valid: false,
            pesan: format!("NIK {error}"),
            kesalahan: error,
        },
    }
}

/// Prints one line per NIK; returns whether all were valid.
pub fn run(niks: &[String]) -> anyhow::Result<bool> {
    let directory = simpul_domain::wilayah::embedded();
    let today = simpul_domain::today();
    let mut all_valid = true;
    for input in niks {
        let parsed = parse(input, directory, today);
        all_valid &= matches!(parsed, Parsed::Valid { .. });
        println!("{}", serde_json::to_string(&parsed)?);
    }
    Ok(all_valid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    fn parsed(input: &str) -> serde_json::Value {
        serde_json::to_value(parse(input, simpul_domain::wilayah::embedded(), today())).unwrap()
    }

    #[test]
    fn a_valid_nik_is_explained() {
        assert_eq!(
            parsed("3577015708900002"),
            json!({
                "nik": "3577015708900002", "valid": true, "kecamatan": "35.77.01",
                "nama_kecamatan": "Kartoharjo", "jenis_kelamin": "perempuan",
                "jenis_kelamin_label": "Perempuan", "tanggal_lahir": "1990-08-17",
                "nomor_urut": 2
            })
        );
    }

    #[test]
    fn an_invalid_nik_names_the_rule() {
        let value = parsed("3577019908900002");
        assert_eq!(value["valid"], json!(false));
        assert_eq!(
            value["kesalahan"],
            json!({"jenis": "day_out_of_range", "day": 99})
        );
        assert!(value["pesan"].as_str().unwrap().contains("99"));
        assert_eq!(parsed("12")["kesalahan"]["jenis"], json!("length"));
    }
}
