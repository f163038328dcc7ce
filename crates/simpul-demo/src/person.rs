//! The biodata fields that follow from who a person is: religion (per family), last
//! completed education (from age and birth cohort), occupation (from age, sex, education
//! and place in the family) and birth place.
//!
//! Shares are rough figures for Kota Madiun (BPS Kota Madiun Dalam Angka; Dukcapil
//! aggregates): about 94% Muslim, Christians of both churches most of the rest; older
//! cohorts left school earlier; many married women are recorded as homemakers.

use rand::Rng;
use simpul_domain::{Education, FamilyRelationship, MaritalStatus, Religion, Sex};

use crate::names::NameStyle;
use crate::{pick, weighted};

/// Religion of a household, in ten-thousandths.
const RELIGIONS: &[(Religion, u32)] = &[
    (Religion::Islam, 9_420),
    (Religion::Kristen, 320),
    (Religion::Katolik, 220),
    (Religion::Hindu, 10),
    (Religion::Buddha, 20),
    (Religion::Khonghucu, 5),
    (Religion::Kepercayaan, 5),
];

pub(crate) fn religion(rng: &mut impl Rng) -> Religion {
    weighted(rng, RELIGIONS)
}

pub(crate) fn name_style(religion: Religion) -> NameStyle {
    match religion {
        Religion::Islam => NameStyle::Muslim,
        Religion::Kristen | Religion::Katolik => NameStyle::Christian,
        Religion::Hindu | Religion::Kepercayaan => NameStyle::Kejawen,
        Religion::Buddha | Religion::Khonghucu => NameStyle::Tionghoa,
    }
}

use Education as E;

/// Completed education of adults by birth cohort, in percent.
const EDU_BEFORE_1960: &[(Education, u32)] = &[
    (E::TidakBelumSekolah, 9),
    (E::BelumTamatSd, 13),
    (E::TamatSd, 30),
    (E::Sltp, 15),
    (E::Slta, 21),
    (E::Diploma12, 2),
    (E::Diploma3, 3),
    (E::Strata1, 6),
    (E::Strata2, 1),
];
const EDU_1960_1984: &[(Education, u32)] = &[
    (E::TidakBelumSekolah, 1),
    (E::BelumTamatSd, 3),
    (E::TamatSd, 13),
    (E::Sltp, 17),
    (E::Slta, 41),
    (E::Diploma12, 2),
    (E::Diploma3, 6),
    (E::Strata1, 15),
    (E::Strata2, 2),
];
const EDU_FROM_1985: &[(Education, u32)] = &[
    (E::TamatSd, 5),
    (E::Sltp, 12),
    (E::Slta, 44),
    (E::Diploma12, 3),
    (E::Diploma3, 7),
    (E::Strata1, 26),
    (E::Strata2, 3),
];

/// Last completed education for someone of `age` born in `birth_year`.
pub(crate) fn education(rng: &mut impl Rng, age: u32, birth_year: i32) -> Education {
    match age {
        ..7 => E::TidakBelumSekolah,
        7..13 => E::BelumTamatSd,
        13..16 => E::TamatSd,
        16..19 => E::Sltp,
        19..23 => {
            if rng.random_bool(0.9) {
                E::Slta
            } else {
                weighted(rng, &[(E::TamatSd, 1), (E::Sltp, 3), (E::Diploma12, 1)])
            }
        }
        _ => {
            let table = match birth_year {
                ..1960 => EDU_BEFORE_1960,
                1960..1985 => EDU_1960_1984,
                _ => EDU_FROM_1985,
            };
            let education = weighted(rng, table);
            // A few doctorates among older graduates.
            if education == E::Strata2 && age >= 35 && rng.random_bool(0.1) {
                E::Strata3
            } else {
                education
            }
        }
    }
}

fn rank(education: Education) -> usize {
    Education::ALL
        .iter()
        .position(|e| *e == education)
        .unwrap_or(0)
}

/// Occupation of a working-age adult, by sex, in relative weights; the minimum education
/// an occupation needs is checked afterwards.
const WORK_MALE: &[(&str, u32)] = &[
    ("Karyawan Swasta", 25),
    ("Wiraswasta", 20),
    ("Buruh Harian Lepas", 11),
    ("Pedagang", 7),
    ("Pegawai Negeri Sipil", 6),
    ("Guru", 2),
    ("Tentara Nasional Indonesia", 2),
    ("Kepolisian RI", 2),
    ("Petani/Pekebun", 3),
    ("Sopir", 4),
    ("Tukang Batu", 2),
    ("Tukang Kayu", 1),
    ("Karyawan BUMN", 4),
    ("Karyawan Honorer", 2),
    ("Mekanik", 2),
    ("Belum/Tidak Bekerja", 4),
    ("Dosen", 1),
    ("Dokter", 1),
    ("Perangkat Desa", 1),
];
const WORK_FEMALE: &[(&str, u32)] = &[
    ("Mengurus Rumah Tangga", 30),
    ("Karyawan Swasta", 18),
    ("Wiraswasta", 12),
    ("Pedagang", 10),
    ("Guru", 5),
    ("Pegawai Negeri Sipil", 5),
    ("Buruh Harian Lepas", 4),
    ("Perawat", 2),
    ("Bidan", 1),
    ("Karyawan Honorer", 3),
    ("Belum/Tidak Bekerja", 5),
    ("Penjahit", 2),
    ("Karyawan BUMN", 1),
    ("Dokter", 1),
];
const RETIRED: &[(&str, u32)] = &[
    ("Pensiunan", 30),
    ("Belum/Tidak Bekerja", 35),
    ("Wiraswasta", 10),
    ("Pedagang", 8),
    ("Petani/Pekebun", 10),
    ("Buruh Harian Lepas", 7),
];

/// The education an occupation needs (an index into [`Education::ALL`]).
fn required(occupation: &str) -> Education {
    match occupation {
        "Guru" | "Dosen" | "Dokter" | "Perawat" | "Bidan" => E::Diploma3,
        "Pegawai Negeri Sipil"
        | "Tentara Nasional Indonesia"
        | "Kepolisian RI"
        | "Karyawan BUMN"
        | "Pensiunan" => E::Slta,
        _ => E::TidakBelumSekolah,
    }
}

/// Occupation text as SIAK prints it, consistent with age, education and family role.
pub(crate) fn occupation(
    rng: &mut impl Rng,
    age: u32,
    sex: Sex,
    education: Education,
    marital: MaritalStatus,
    relationship: FamilyRelationship,
) -> &'static str {
    if relationship == FamilyRelationship::Pembantu {
        return "Pembantu Rumah Tangga";
    }
    let married_woman = sex == Sex::Perempuan && marital != MaritalStatus::BelumKawin;
    let working = match age {
        ..5 => return "Belum/Tidak Bekerja",
        5..17 => return "Pelajar/Mahasiswa",
        // Someone married at 17 or 18 has usually left school.
        17..19 if marital == MaritalStatus::BelumKawin => return "Pelajar/Mahasiswa",
        17..58 => {
            // Many school leavers of 19 to 23 with an SLTA diploma are still studying.
            let studying = (19..24).contains(&age)
                && rank(education) >= rank(E::Slta)
                && rng.random_bool(0.45);
            if studying {
                return "Pelajar/Mahasiswa";
            }
            true
        }
        58..75 => rng.random_bool(0.25),
        _ => false,
    };
    if !working {
        if married_woman && rng.random_bool(0.4) {
            return "Mengurus Rumah Tangga";
        }
        let retired = weighted(rng, RETIRED);
        return if rank(education) >= rank(required(retired)) {
            retired
        } else {
            "Belum/Tidak Bekerja"
        };
    }
    let table = if sex == Sex::LakiLaki {
        WORK_MALE
    } else {
        WORK_FEMALE
    };
    // Two tries at an occupation the person is qualified for, then something that needs
    // no diploma.
    for _ in 0..2 {
        let job = weighted(rng, table);
        let homemaker_but_single = job == "Mengurus Rumah Tangga" && !married_woman;
        let dokter_needs_s1 = job == "Dokter" && rank(education) < rank(E::Strata1);
        if rank(education) >= rank(required(job)) && !homemaker_but_single && !dokter_needs_s1 {
            return job;
        }
    }
    pick(
        rng,
        &[
            "Wiraswasta",
            "Buruh Harian Lepas",
            "Karyawan Swasta",
            "Pedagang",
        ],
    )
}

/// Cities people in a Madiun household were born in when not born locally: neighbouring
/// regencies first, then the big cities of Java.
const ELSEWHERE: &[(&str, u32)] = &[
    ("Magetan", 14),
    ("Ponorogo", 14),
    ("Ngawi", 12),
    ("Nganjuk", 8),
    ("Pacitan", 5),
    ("Kediri", 5),
    ("Surabaya", 9),
    ("Surakarta", 5),
    ("Yogyakarta", 5),
    ("Jakarta", 6),
    ("Semarang", 3),
    ("Malang", 4),
    ("Bojonegoro", 3),
    ("Sragen", 3),
    ("Bandung", 2),
    ("Tulungagung", 2),
];

/// Birth place: mostly the home city; people who moved in were born elsewhere.
pub(crate) fn birth_place(rng: &mut impl Rng, age: u32, home_city: &str) -> String {
    let local = match age {
        ..18 => 0.92,
        18..40 => 0.75,
        _ => 0.62,
    };
    if rng.random_bool(local) {
        return home_city.to_owned();
    }
    let place = weighted(rng, ELSEWHERE);
    // In the provinces around Madiun the neighbour may be the home city itself.
    if place == home_city {
        "Surabaya".to_owned()
    } else {
        place.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn occupations_respect_age_and_qualification() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..2_000 {
            let age = rng.random_range(0..99);
            let sex = if rng.random_bool(0.5) {
                Sex::LakiLaki
            } else {
                Sex::Perempuan
            };
            let education = education(&mut rng, age, 2026 - age as i32);
            let marital = if age < 20 {
                MaritalStatus::BelumKawin
            } else {
                MaritalStatus::KawinTercatat
            };
            let job = occupation(
                &mut rng,
                age,
                sex,
                education,
                marital,
                FamilyRelationship::Anak,
            );
            assert!(
                rank(education) >= rank(required(job)),
                "{job} with {education:?}"
            );
            if age < 5 {
                assert_eq!(job, "Belum/Tidak Bekerja");
            } else if age < 19 {
                assert_eq!(job, "Pelajar/Mahasiswa");
            }
            if job == "Mengurus Rumah Tangga" {
                assert_eq!(sex, Sex::Perempuan);
            }
        }
    }
}
