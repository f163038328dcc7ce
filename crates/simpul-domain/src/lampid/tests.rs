//! e-LAMPID rules case by case, the workflow table cell by cell, and their properties.

use super::*;
use crate::wilayah::embedded;
use proptest::prelude::*;
use rstest::rstest;

// --- fixture: one family in Oro-oro Ombo (35.77.01.1001), Kota Madiun ---------------------

const HERE: &str = "35.77.01.1001";
const NEXT_DOOR: &str = "35.77.01.1002";
const KK: &str = "3577012501150001";
const OTHER_KK: &str = "3577012601150001";
/// Head of the family, born 1988-05-05.
const FATHER: &str = "3577010505880001";
/// Born 1990-07-07 (day 47: female).
const MOTHER: &str = "3577014707900001";
/// Born 2015-01-01.
const CHILD: &str = "3577010101150001";
/// Living, same kelurahan, another family.
const NEIGHBOUR: &str = "3577010606800001";
/// Living, in the next kelurahan.
const ELSEWHERE: &str = "3577010202800001";
const DECEASED: &str = "3577010303700001";
const MOVED: &str = "3577010404700001";
/// Unknown to the registry (comes from another city), male.
const STRANGER: &str = "3577010808850001";
/// A valid destination village in Kabupaten Madiun (another city).
const OTHER_CITY_VILLAGE: &str = "35.19.01.2001";

fn today() -> NaiveDate {
    date(2026, 11, 25)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("test date")
}

fn nik(s: &str) -> Nik {
    Nik::parse(s, embedded(), today()).expect("test NIK")
}

fn kk(s: &str) -> NoKk {
    NoKk::parse(s, embedded(), today()).expect("test KK")
}

fn code(s: &str) -> KodeWilayah {
    KodeWilayah::parse(s).expect("test region code")
}

fn person(
    kel: &str,
    no_kk: &str,
    sex: Sex,
    born: NaiveDate,
    status: ResidentStatus,
) -> PersonFacts {
    PersonFacts {
        status,
        sex,
        birth_date: born,
        kelurahan: code(kel),
        no_kk: kk(no_kk),
        died_on: None,
    }
}

/// What a store would read for any payload in these tests: the whole little registry, and
/// the region codes the payload names that the master data holds.
fn facts_for(payload: &LampidPayload) -> LampidFacts {
    use ResidentStatus::*;
    use Sex::*;
    let mut facts = LampidFacts::new(code(HERE));
    for (n, kel, no_kk, sex, born, status) in [
        (FATHER, HERE, KK, LakiLaki, date(1988, 5, 5), Hidup),
        (MOTHER, HERE, KK, Perempuan, date(1990, 7, 7), Hidup),
        (CHILD, HERE, KK, LakiLaki, date(2015, 1, 1), Hidup),
        (NEIGHBOUR, HERE, OTHER_KK, LakiLaki, date(1980, 6, 6), Hidup),
        (
            ELSEWHERE,
            NEXT_DOOR,
            OTHER_KK,
            LakiLaki,
            date(1980, 2, 2),
            Hidup,
        ),
        (DECEASED, HERE, KK, LakiLaki, date(1970, 3, 3), Meninggal),
        (MOVED, HERE, KK, LakiLaki, date(1970, 4, 4), Pindah),
    ] {
        facts
            .persons
            .insert(nik(n), person(kel, no_kk, sex, born, status));
    }
    facts.families.insert(
        kk(KK),
        FamilyFacts {
            kelurahan: code(HERE),
            members: vec![
                (nik(FATHER), FamilyRelationship::KepalaKeluarga),
                (nik(MOTHER), FamilyRelationship::Istri),
                (nik(CHILD), FamilyRelationship::Anak),
            ],
        },
    );
    facts.families.insert(
        kk(OTHER_KK),
        FamilyFacts {
            kelurahan: code(HERE),
            members: vec![(nik(NEIGHBOUR), FamilyRelationship::KepalaKeluarga)],
        },
    );
    facts.known_regions = payload
        .referenced_regions()
        .into_iter()
        .filter(|c| embedded().get(c).is_some())
        .cloned()
        .collect();
    facts
}

fn address(kel: &str) -> Address {
    Address {
        street: "Jl. Pahlawan 12".into(),
        rt: 1,
        rw: 2,
        kelurahan: code(kel),
    }
}

fn kelahiran() -> Kelahiran {
    Kelahiran {
        child_name: "Budi Santoso".into(),
        sex: Sex::LakiLaki,
        birth_date: date(2026, 11, 1),
        birth_time: NaiveTime::from_hms_opt(8, 30, 0).expect("test time"),
        birth_place: "Madiun".into(),
        mother_nik: nik(MOTHER),
        father_nik: Some(nik(FATHER)),
        mother_name: None,
        father_name: None,
        no_kk: kk(KK),
        reporter: nik(FATHER),
    }
}

fn kematian() -> Kematian {
    Kematian {
        nik: nik(CHILD),
        date: date(2026, 11, 20),
        place: "RSUD Kota Madiun".into(),
        cause: CauseOfDeath::SakitBiasaTua,
        new_head: None,
        reporter: nik(FATHER),
    }
}

fn pindah() -> Pindah {
    Pindah {
        no_kk: kk(KK),
        scope: MoveScope::Sebagian {
            members: vec![nik(CHILD)],
            new_head: None,
        },
        destination: address(OTHER_CITY_VILLAGE),
        reason: MoveReason::Pendidikan,
        reporter: nik(FATHER),
    }
}

fn datang() -> Datang {
    Datang {
        origin: Origin::LuarKota {
            move_letter: "SKPWNI/3519/25112026/0001".into(),
            kelurahan: code(OTHER_CITY_VILLAGE),
        },
        arrivals: vec![Arrival {
            nik: nik(STRANGER),
            relationship: FamilyRelationship::FamiliLain,
            biodata: Some(biodata(STRANGER)),
        }],
        family: ArrivalFamily::GabungKk { no_kk: kk(KK) },
        reporter: nik(FATHER),
    }
}

/// Validates after letting `mutate` break one thing in the payload or the facts.
fn run<T: Clone>(
    base: T,
    wrap: fn(T) -> LampidPayload,
    mutate: impl Fn(&mut T, &mut LampidFacts),
) -> Result<Assessment, LampidError> {
    let mut payload = base;
    let mut facts = facts_for(&wrap(payload.clone()));
    mutate(&mut payload, &mut facts);
    let payload = wrap(payload);
    // Region facts follow the mutated payload, as a store would read them.
    let regions = facts_for(&payload).known_regions;
    facts.known_regions = regions;
    payload.validate(&facts, today())
}

fn assert_refused(result: Result<Assessment, LampidError>, code: &str, field: &str) {
    let err = result.expect_err("the broken rule must refuse the payload");
    assert_eq!((err.code(), err.field()), (code, field), "{err}");
}

fn status(facts: &mut LampidFacts, n: &str, status: ResidentStatus, died_on: Option<NaiveDate>) {
    let p = facts.persons.get_mut(&nik(n)).expect("fixture person");
    p.status = status;
    p.died_on = died_on;
}

#[test]
fn base_payloads_are_accepted_on_time() {
    let ok = Ok(Assessment { late: false });
    assert_eq!(run(kelahiran(), LampidPayload::Kelahiran, |_, _| {}), ok);
    assert_eq!(run(kematian(), LampidPayload::Kematian, |_, _| {}), ok);
    assert_eq!(run(pindah(), LampidPayload::Pindah, |_, _| {}), ok);
    assert_eq!(run(datang(), LampidPayload::Datang, |_, _| {}), ok);
}

// --- kelahiran -----------------------------------------------------------------------------

#[rstest]
#[case::empty_name(|k: &mut Kelahiran, _: &mut LampidFacts| k.child_name = "  ".into(), "empty_field", "nama_anak")]
#[case::long_name(|k: &mut Kelahiran, _: &mut LampidFacts| k.child_name = "a".repeat(121), "field_too_long", "nama_anak")]
#[case::empty_place(|k: &mut Kelahiran, _: &mut LampidFacts| k.birth_place.clear(), "empty_field", "tempat_lahir")]
#[case::born_tomorrow(|k: &mut Kelahiran, _: &mut LampidFacts| k.birth_date = date(2026, 11, 26), "date_in_future", "tanggal_lahir")]
#[case::unknown_kk(|_: &mut Kelahiran, f: &mut LampidFacts| f.families.clear(), "family_not_found", "no_kk")]
#[case::kk_elsewhere(|_: &mut Kelahiran, f: &mut LampidFacts| {
    if let Some(fam) = f.families.get_mut(&kk(KK)) { fam.kelurahan = code(NEXT_DOOR) }
}, "outside_kelurahan", "no_kk")]
#[case::mother_is_male(|k: &mut Kelahiran, _: &mut LampidFacts| k.mother_nik = nik(NEIGHBOUR), "mother_not_female", "nik_ibu")]
#[case::unregistered_mother_nik_male(|k: &mut Kelahiran, _: &mut LampidFacts| k.mother_nik = nik(STRANGER), "mother_not_female", "nik_ibu")]
#[case::mother_died_before(|_: &mut Kelahiran, f: &mut LampidFacts| status(f, MOTHER, ResidentStatus::Meninggal, Some(date(2026, 10, 31))), "mother_not_alive", "nik_ibu")]
#[case::mother_dead_date_unknown(|_: &mut Kelahiran, f: &mut LampidFacts| status(f, MOTHER, ResidentStatus::Meninggal, None), "mother_not_alive", "nik_ibu")]
#[case::mother_nine_years_older(|_: &mut Kelahiran, f: &mut LampidFacts| {
    if let Some(m) = f.persons.get_mut(&nik(MOTHER)) { m.birth_date = date(2016, 11, 2) }
}, "mother_too_young", "nik_ibu")]
#[case::mother_born_after_child(|k: &mut Kelahiran, _: &mut LampidFacts| k.birth_date = date(1990, 1, 1), "mother_too_young", "nik_ibu")]
#[case::unregistered_mother_too_young(|k: &mut Kelahiran, _: &mut LampidFacts| k.mother_nik = nik("3577014101200001"), "mother_too_young", "nik_ibu")]
#[case::father_is_female(|k: &mut Kelahiran, _: &mut LampidFacts| k.father_nik = Some(nik(MOTHER)), "father_not_male", "nik_ayah")]
#[case::unregistered_mother_unnamed(|k: &mut Kelahiran, _: &mut LampidFacts| k.mother_nik = nik("3577014101950001"), "empty_field", "nama_ibu")]
fn kelahiran_rules(
    #[case] mutate: impl Fn(&mut Kelahiran, &mut LampidFacts),
    #[case] code: &str,
    #[case] field: &str,
) {
    assert_refused(
        run(kelahiran(), LampidPayload::Kelahiran, mutate),
        code,
        field,
    );
}

#[rstest]
#[case::mother_died_in_childbirth(|_: &mut Kelahiran, f: &mut LampidFacts| status(f, MOTHER, ResidentStatus::Meninggal, Some(date(2026, 11, 1))), false)]
#[case::mother_exactly_ten_years_older(|k: &mut Kelahiran, _: &mut LampidFacts| k.birth_date = date(2000, 7, 7), true)]
#[case::unknown_father(|k: &mut Kelahiran, _: &mut LampidFacts| k.father_nik = None, false)]
#[case::unregistered_mother_judged_by_nik(|k: &mut Kelahiran, _: &mut LampidFacts| { k.mother_nik = nik("3577014101950001"); k.mother_name = Some("Sri".into()) }, false)]
#[case::sixty_days_on_time(|k: &mut Kelahiran, _: &mut LampidFacts| k.birth_date = date(2026, 9, 26), false)]
#[case::sixty_one_days_late(|k: &mut Kelahiran, _: &mut LampidFacts| k.birth_date = date(2026, 9, 25), true)]
fn kelahiran_accepted(
    #[case] mutate: impl Fn(&mut Kelahiran, &mut LampidFacts),
    #[case] late: bool,
) {
    assert_eq!(
        run(kelahiran(), LampidPayload::Kelahiran, mutate),
        Ok(Assessment { late })
    );
}

// --- kematian ------------------------------------------------------------------------------

#[rstest]
#[case::empty_place(|k: &mut Kematian, _: &mut LampidFacts| k.place.clear(), "empty_field", "tempat_kematian")]
#[case::unknown(|k: &mut Kematian, _: &mut LampidFacts| k.nik = nik(STRANGER), "resident_not_found", "nik")]
#[case::already_deceased(|k: &mut Kematian, _: &mut LampidFacts| k.nik = nik(DECEASED), "already_deceased", "nik")]
#[case::already_moved(|k: &mut Kematian, _: &mut LampidFacts| k.nik = nik(MOVED), "already_moved", "nik")]
#[case::other_kelurahan(|k: &mut Kematian, _: &mut LampidFacts| k.nik = nik(ELSEWHERE), "outside_kelurahan", "nik")]
#[case::tomorrow(|k: &mut Kematian, _: &mut LampidFacts| k.date = date(2026, 11, 26), "date_in_future", "tanggal_kematian")]
#[case::before_birth(|k: &mut Kematian, _: &mut LampidFacts| k.date = date(2014, 12, 31), "death_before_birth", "tanggal_kematian")]
#[case::head_without_successor(|k: &mut Kematian, _: &mut LampidFacts| k.nik = nik(FATHER), "new_head_required", "nik_kepala_baru")]
#[case::successor_outside_family(|k: &mut Kematian, _: &mut LampidFacts| {
    k.nik = nik(FATHER);
    k.new_head = Some(nik(NEIGHBOUR));
}, "new_head_not_in_family", "nik_kepala_baru")]
#[case::head_succeeds_himself(|k: &mut Kematian, _: &mut LampidFacts| {
    k.nik = nik(FATHER);
    k.new_head = Some(nik(FATHER));
}, "new_head_not_in_family", "nik_kepala_baru")]
#[case::successor_when_head_lives(|k: &mut Kematian, _: &mut LampidFacts| k.new_head = Some(nik(MOTHER)), "new_head_not_needed", "nik_kepala_baru")]
fn kematian_rules(
    #[case] mutate: impl Fn(&mut Kematian, &mut LampidFacts),
    #[case] code: &str,
    #[case] field: &str,
) {
    assert_refused(
        run(kematian(), LampidPayload::Kematian, mutate),
        code,
        field,
    );
}

#[rstest]
#[case::head_with_successor(|k: &mut Kematian, _: &mut LampidFacts| {
    k.nik = nik(FATHER);
    k.new_head = Some(nik(MOTHER));
}, false)]
#[case::head_living_alone(|k: &mut Kematian, _: &mut LampidFacts| k.nik = nik(NEIGHBOUR), false)]
#[case::died_on_birth_day(|k: &mut Kematian, _: &mut LampidFacts| k.date = date(2015, 1, 1), true)]
#[case::thirty_days_on_time(|k: &mut Kematian, _: &mut LampidFacts| k.date = date(2026, 10, 26), false)]
#[case::thirty_one_days_late(|k: &mut Kematian, _: &mut LampidFacts| k.date = date(2026, 10, 25), true)]
fn kematian_accepted(#[case] mutate: impl Fn(&mut Kematian, &mut LampidFacts), #[case] late: bool) {
    assert_eq!(
        run(kematian(), LampidPayload::Kematian, mutate),
        Ok(Assessment { late })
    );
}

// --- pindah --------------------------------------------------------------------------------

fn movers(p: &mut Pindah, members: &[&str], head: Option<&str>) {
    p.scope = MoveScope::Sebagian {
        members: members.iter().map(|n| nik(n)).collect(),
        new_head: head.map(nik),
    };
}

#[rstest]
#[case::unknown_kk(|_: &mut Pindah, f: &mut LampidFacts| f.families.clear(), "family_not_found", "no_kk")]
#[case::kk_elsewhere(|_: &mut Pindah, f: &mut LampidFacts| {
    if let Some(fam) = f.families.get_mut(&kk(KK)) { fam.kelurahan = code(NEXT_DOOR) }
}, "outside_kelurahan", "no_kk")]
#[case::nobody(|p: &mut Pindah, _: &mut LampidFacts| movers(p, &[], None), "no_members", "yang_pindah.anggota")]
#[case::twice(|p: &mut Pindah, _: &mut LampidFacts| movers(p, &[CHILD, CHILD], None), "duplicate_nik", "yang_pindah.anggota")]
#[case::unknown(|p: &mut Pindah, _: &mut LampidFacts| movers(p, &[STRANGER], None), "resident_not_found", "yang_pindah.anggota")]
#[case::deceased(|p: &mut Pindah, _: &mut LampidFacts| movers(p, &[DECEASED], None), "already_deceased", "yang_pindah.anggota")]
#[case::moved(|p: &mut Pindah, _: &mut LampidFacts| movers(p, &[MOVED], None), "already_moved", "yang_pindah.anggota")]
#[case::other_kelurahan(|p: &mut Pindah, _: &mut LampidFacts| movers(p, &[ELSEWHERE], None), "outside_kelurahan", "yang_pindah.anggota")]
#[case::other_family(|p: &mut Pindah, _: &mut LampidFacts| movers(p, &[NEIGHBOUR], None), "not_family_member", "yang_pindah.anggota")]
#[case::head_leaves_without_successor(|p: &mut Pindah, _: &mut LampidFacts| movers(p, &[FATHER], None), "new_head_required", "nik_kepala_baru")]
#[case::successor_leaves_too(|p: &mut Pindah, _: &mut LampidFacts| movers(p, &[FATHER, MOTHER], Some(MOTHER)), "new_head_not_in_family", "nik_kepala_baru")]
#[case::successor_when_head_stays(|p: &mut Pindah, _: &mut LampidFacts| movers(p, &[CHILD], Some(MOTHER)), "new_head_not_needed", "nik_kepala_baru")]
#[case::destination_unknown(|p: &mut Pindah, _: &mut LampidFacts| p.destination.kelurahan = code("35.77.01.1999"), "unknown_region", "alamat_tujuan.kelurahan")]
#[case::destination_a_kecamatan(|p: &mut Pindah, _: &mut LampidFacts| p.destination.kelurahan = code("35.19.01"), "not_a_village", "alamat_tujuan.kelurahan")]
#[case::rt_zero(|p: &mut Pindah, _: &mut LampidFacts| p.destination.rt = 0, "neighbourhood_out_of_range", "alamat_tujuan.kelurahan")]
#[case::empty_street(|p: &mut Pindah, _: &mut LampidFacts| p.destination.street.clear(), "empty_field", "alamat_tujuan.alamat")]
fn pindah_rules(
    #[case] mutate: impl Fn(&mut Pindah, &mut LampidFacts),
    #[case] code: &str,
    #[case] field: &str,
) {
    assert_refused(run(pindah(), LampidPayload::Pindah, mutate), code, field);
}

#[rstest]
#[case::whole_family(|p: &mut Pindah, _: &mut LampidFacts| p.scope = MoveScope::SeluruhKeluarga)]
#[case::everyone_named(|p: &mut Pindah, _: &mut LampidFacts| movers(p, &[FATHER, MOTHER, CHILD], None))]
#[case::head_leaves_with_successor(|p: &mut Pindah, _: &mut LampidFacts| movers(p, &[FATHER], Some(MOTHER)))]
fn pindah_accepted(#[case] mutate: impl Fn(&mut Pindah, &mut LampidFacts)) {
    assert_eq!(
        run(pindah(), LampidPayload::Pindah, mutate),
        Ok(Assessment { late: false })
    );
}

#[test]
fn duplicate_is_reported_at_its_second_position() {
    let err = run(
        pindah(),
        LampidPayload::Pindah,
        |p: &mut Pindah, _: &mut LampidFacts| movers(p, &[CHILD, MOTHER, CHILD], None),
    )
    .expect_err("duplicate");
    assert_eq!(err.index(), Some(3));
    let err = run(
        pindah(),
        LampidPayload::Pindah,
        |p: &mut Pindah, _: &mut LampidFacts| movers(p, &[CHILD, STRANGER], None),
    )
    .expect_err("unknown");
    assert_eq!((err.code(), err.index()), ("resident_not_found", Some(2)));
}

// --- datang --------------------------------------------------------------------------------

/// Biodata that agrees with the NIK, as a move letter gives it.
fn biodata(n: &str) -> ArrivalBiodata {
    ArrivalBiodata {
        full_name: "Pendatang".into(),
        birth_place: "Ponorogo".into(),
        birth_date: nik(n).birth_date(today()).expect("NIK date"),
        religion: Religion::Islam,
        marital_status: MaritalStatus::BelumKawin,
        education: Education::Slta,
        occupation: "Karyawan Swasta".into(),
        father_name: String::new(),
        mother_name: "Ibu Pendatang".into(),
        citizenship: Citizenship::Wni,
    }
}

fn arrivals(d: &mut Datang, people: &[(&str, FamilyRelationship)]) {
    d.arrivals = people
        .iter()
        .map(|(n, relationship)| Arrival {
            nik: nik(n),
            relationship: *relationship,
            biodata: Some(biodata(n)),
        })
        .collect();
}

fn within_city(d: &mut Datang) {
    d.origin = Origin::DalamKota;
}

const LAIN: FamilyRelationship = FamilyRelationship::FamiliLain;
const KEPALA: FamilyRelationship = FamilyRelationship::KepalaKeluarga;

#[rstest]
#[case::empty_letter(|d: &mut Datang, _: &mut LampidFacts| d.origin = Origin::LuarKota { move_letter: " ".into(), kelurahan: code(OTHER_CITY_VILLAGE) }, "empty_field", "asal.nomor_surat_pindah")]
#[case::malformed_letter(|d: &mut Datang, _: &mut LampidFacts| d.origin = Origin::LuarKota { move_letter: "SKPWNI#1".into(), kelurahan: code(OTHER_CITY_VILLAGE) }, "malformed_move_letter", "asal.nomor_surat_pindah")]
#[case::origin_unknown(|d: &mut Datang, _: &mut LampidFacts| d.origin = Origin::LuarKota { move_letter: "1".into(), kelurahan: code("35.19.01.2999") }, "unknown_region", "asal.kelurahan_asal")]
#[case::origin_in_this_city(|d: &mut Datang, _: &mut LampidFacts| d.origin = Origin::LuarKota { move_letter: "1".into(), kelurahan: code(NEXT_DOOR) }, "origin_in_city", "asal.kelurahan_asal")]
#[case::nobody(|d: &mut Datang, _: &mut LampidFacts| arrivals(d, &[]), "no_members", "anggota")]
#[case::twice(|d: &mut Datang, _: &mut LampidFacts| arrivals(d, &[(STRANGER, LAIN), (STRANGER, LAIN)]), "duplicate_nik", "anggota")]
#[case::unknown_kk(|_: &mut Datang, f: &mut LampidFacts| f.families.clear(), "family_not_found", "tujuan.no_kk")]
#[case::kk_elsewhere(|_: &mut Datang, f: &mut LampidFacts| {
    if let Some(fam) = f.families.get_mut(&kk(KK)) { fam.kelurahan = code(NEXT_DOOR) }
}, "outside_kelurahan", "tujuan.no_kk")]
#[case::from_outside_but_living_here(|d: &mut Datang, _: &mut LampidFacts| arrivals(d, &[(NEIGHBOUR, LAIN)]), "already_resident", "anggota")]
#[case::from_outside_but_deceased(|d: &mut Datang, _: &mut LampidFacts| arrivals(d, &[(DECEASED, LAIN)]), "already_deceased", "anggota")]
#[case::within_city_unknown(|d: &mut Datang, _: &mut LampidFacts| { within_city(d); arrivals(d, &[(STRANGER, LAIN)]) }, "resident_not_found", "anggota")]
#[case::within_city_moved_away(|d: &mut Datang, _: &mut LampidFacts| { within_city(d); arrivals(d, &[(MOVED, LAIN)]) }, "already_moved", "anggota")]
#[case::within_city_head_leaving_members(|d: &mut Datang, _: &mut LampidFacts| {
    within_city(d);
    arrivals(d, &[(FATHER, LAIN)]);
    d.family = ArrivalFamily::GabungKk { no_kk: kk(OTHER_KK) };
}, "head_leaves_members", "anggota")]
#[case::within_city_already_member(|d: &mut Datang, _: &mut LampidFacts| { within_city(d); arrivals(d, &[(CHILD, LAIN)]) }, "already_in_family", "anggota")]
#[case::second_head_joins(|d: &mut Datang, _: &mut LampidFacts| arrivals(d, &[(STRANGER, KEPALA)]), "head_count", "anggota")]
#[case::new_card_without_head(|d: &mut Datang, _: &mut LampidFacts| d.family = ArrivalFamily::KkBaru { address: address(HERE) }, "head_count", "anggota")]
#[case::new_card_elsewhere(|d: &mut Datang, _: &mut LampidFacts| {
    arrivals(d, &[(STRANGER, KEPALA)]);
    d.family = ArrivalFamily::KkBaru { address: address(NEXT_DOOR) };
}, "outside_kelurahan", "tujuan.alamat.kelurahan")]
#[case::new_card_unknown_village(|d: &mut Datang, _: &mut LampidFacts| {
    arrivals(d, &[(STRANGER, KEPALA)]);
    d.family = ArrivalFamily::KkBaru { address: address("35.77.01.1999") };
}, "unknown_region", "tujuan.alamat.kelurahan")]
#[case::stranger_without_biodata(|d: &mut Datang, _: &mut LampidFacts| d.arrivals[0].biodata = None, "biodata_required", "anggota.biodata")]
#[case::biodata_disagrees_with_nik(|d: &mut Datang, _: &mut LampidFacts| {
    if let Some(b) = d.arrivals[0].biodata.as_mut() { b.birth_date = date(1985, 8, 9) }
}, "biodata_disagrees", "anggota.biodata")]
fn datang_rules(
    #[case] mutate: impl Fn(&mut Datang, &mut LampidFacts),
    #[case] code: &str,
    #[case] field: &str,
) {
    assert_refused(run(datang(), LampidPayload::Datang, mutate), code, field);
}

#[rstest]
#[case::returning_after_moving_out(|d: &mut Datang, _: &mut LampidFacts| arrivals(d, &[(MOVED, LAIN)]))]
#[case::within_city_new_card(|d: &mut Datang, _: &mut LampidFacts| {
    within_city(d);
    arrivals(d, &[(ELSEWHERE, KEPALA), (NEIGHBOUR, LAIN)]);
    d.family = ArrivalFamily::KkBaru { address: address(HERE) };
})]
#[case::whole_family_within_city(|d: &mut Datang, _: &mut LampidFacts| {
    within_city(d);
    arrivals(d, &[(FATHER, KEPALA), (MOTHER, LAIN), (CHILD, LAIN)]);
    d.family = ArrivalFamily::KkBaru { address: address(HERE) };
})]
fn datang_accepted(#[case] mutate: impl Fn(&mut Datang, &mut LampidFacts)) {
    assert_eq!(
        run(datang(), LampidPayload::Datang, mutate),
        Ok(Assessment { late: false })
    );
}

// --- payload encoding ----------------------------------------------------------------------

#[test]
fn payloads_use_indonesian_field_names_and_round_trip() -> Result<(), serde_json::Error> {
    let payload = LampidPayload::Kelahiran(kelahiran());
    let json = serde_json::to_value(&payload)?;
    assert_eq!(json["jenis"], "kelahiran");
    assert_eq!(json["data"]["nik_ibu"], MOTHER);
    assert_eq!(json["data"]["jam_lahir"], "08:30:00");
    assert_eq!(serde_json::from_value::<LampidPayload>(json)?, payload);

    let payload = LampidPayload::Pindah(pindah());
    let json = serde_json::to_value(&payload)?;
    assert_eq!(json["data"]["yang_pindah"]["cakupan"], "sebagian");
    assert_eq!(json["data"]["alasan"], "pendidikan");
    assert_eq!(serde_json::from_value::<LampidPayload>(json)?, payload);

    let payload = LampidPayload::Datang(datang());
    let json = serde_json::to_value(&payload)?;
    assert_eq!(json["data"]["asal"]["jenis"], "luar_kota");
    assert_eq!(json["data"]["tujuan"]["jenis"], "gabung_kk");
    assert_eq!(serde_json::from_value::<LampidPayload>(json)?, payload);
    Ok(())
}

#[test]
fn debug_hides_the_childs_name() {
    let shown = format!("{:?}", kelahiran());
    assert!(!shown.contains("Budi"), "{shown}");
    assert!(!shown.contains(MOTHER), "{shown}");
}

#[test]
fn error_codes_are_unique() {
    let errors = [
        LampidError::Empty { field: "x" },
        LampidError::TooLong { field: "x" },
        LampidError::DateInFuture { field: "x" },
        LampidError::DeathBeforeBirth,
        LampidError::MotherNotFemale,
        LampidError::MotherNotAlive,
        LampidError::MotherTooYoung,
        LampidError::FatherNotMale,
        LampidError::FamilyNotFound { field: "x" },
        LampidError::ResidentNotFound {
            field: "x",
            index: None,
        },
        LampidError::OutsideKelurahan {
            field: "x",
            index: None,
        },
        LampidError::AlreadyDeceased {
            field: "x",
            index: None,
        },
        LampidError::AlreadyMoved {
            field: "x",
            index: None,
        },
        LampidError::AlreadyResident { index: 1 },
        LampidError::AlreadyInFamily { index: 1 },
        LampidError::NotFamilyMember {
            field: "x",
            index: None,
        },
        LampidError::DuplicateNik {
            field: "x",
            index: 1,
        },
        LampidError::NoMembers { field: "x" },
        LampidError::NewHeadRequired { field: "x" },
        LampidError::NewHeadNotInFamily { field: "x" },
        LampidError::NewHeadNotNeeded { field: "x" },
        LampidError::HeadCount {
            expected: 1,
            found: 0,
        },
        LampidError::UnknownRegion { field: "x" },
        LampidError::NotAVillage {
            field: "x",
            found: RegionLevel::Kecamatan,
        },
        LampidError::NeighbourhoodOutOfRange { field: "x" },
        LampidError::OriginInCity,
        LampidError::MalformedMoveLetter,
    ];
    let codes: HashSet<&str> = errors.iter().map(LampidError::code).collect();
    assert_eq!(codes.len(), errors.len());
}

// --- workflow ------------------------------------------------------------------------------

/// A state in the table, by name; rejections carry [`REASON`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum S {
    Draf,
    Diajukan,
    Diverifikasi,
    Tercatat,
    DitolakKec,
    DitolakDuk,
}

const REASON: &str = "akta nikah orang tua belum dilampirkan";

impl S {
    const ALL: [S; 6] = [
        S::Draf,
        S::Diajukan,
        S::Diverifikasi,
        S::Tercatat,
        S::DitolakKec,
        S::DitolakDuk,
    ];

    fn state(self) -> SubmissionState {
        let rejected = |level| SubmissionState::Ditolak {
            level,
            reason: REASON.into(),
        };
        match self {
            S::Draf => SubmissionState::Draf,
            S::Diajukan => SubmissionState::Diajukan,
            S::Diverifikasi => SubmissionState::Diverifikasi,
            S::Tercatat => SubmissionState::Tercatat,
            S::DitolakKec => rejected(ReviewLevel::Kecamatan),
            S::DitolakDuk => rejected(ReviewLevel::Dukcapil),
        }
    }
}

fn transitions() -> [Transition; 5] {
    [
        Transition::Ajukan,
        Transition::Verifikasi,
        Transition::Catat,
        // Padded: the reason is stored trimmed.
        Transition::Tolak {
            reason: format!("  {REASON} "),
        },
        Transition::AjukanUlang,
    ]
}

/// One cell: the step is impossible in this state (`X`), or `role` may take it to `S`.
#[derive(Debug, Clone, Copy)]
enum Cell {
    X,
    Go(RoleKind, S),
}
use Cell::{Go, X};
const OP: RoleKind = RoleKind::Operator;
const SUP: RoleKind = RoleKind::Supervisor;
const REG: RoleKind = RoleKind::Registrar;

/// The workflow as it must read.
#[rustfmt::skip]
const TABLE: [(S, [Cell; 5]); 6] = [
    //                ajukan             verifikasi             catat               tolak                    ajukan_ulang
    (S::Draf,         [Go(OP, S::Diajukan), X,                   X,                  X,                       X]),
    (S::Diajukan,     [X,                Go(SUP, S::Diverifikasi), X,                Go(SUP, S::DitolakKec),  X]),
    (S::Diverifikasi, [X,                X,                      Go(REG, S::Tercatat), Go(REG, S::DitolakDuk), X]),
    (S::Tercatat,     [X,                X,                      X,                  X,                       X]),
    (S::DitolakKec,   [X,                X,                      X,                  X,                       Go(OP, S::Diajukan)]),
    (S::DitolakDuk,   [X,                X,                      X,                  X,                       Go(OP, S::Diajukan)]),
];

#[test]
fn transition_table_every_state_step_and_role() {
    assert_eq!(TABLE.map(|(s, _)| s), S::ALL, "every state has a row");
    let mut checked = 0;
    for (from, row) in TABLE {
        for (transition, cell) in transitions().iter().zip(row) {
            for role in RoleKind::ALL {
                let got = from.state().next(transition, role);
                let want = match cell {
                    Go(expected, to) if expected == role => Ok(to.state()),
                    Go(expected, _) => Err(WorkflowError::WrongLevel { role, expected }),
                    X => Err(WorkflowError::InvalidTransition {
                        from: from.state().code(),
                        transition: transition.code(),
                    }),
                };
                assert_eq!(got, want, "{from:?} --{}--> as {role}", transition.code());
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6 * 5 * RoleKind::ALL.len());
}

#[rstest]
#[case::empty("", WorkflowError::ReasonRequired)]
#[case::blank(" \n\t ", WorkflowError::ReasonRequired)]
#[case::too_long(&"x".repeat(MAX_REASON_LEN + 1), WorkflowError::ReasonTooLong)]
fn rejection_needs_a_reason(#[case] reason: &str, #[case] expected: WorkflowError) {
    let reject = Transition::Tolak {
        reason: reason.into(),
    };
    assert_eq!(
        SubmissionState::Diajukan.next(&reject, SUP),
        Err(expected.clone())
    );
    assert_eq!(
        SubmissionState::Diverifikasi.next(&reject, REG),
        Err(expected)
    );
}

#[test]
fn transitions_map_to_the_gates_actions() {
    use crate::access::Action;
    let actions = transitions().map(|t| t.action());
    assert_eq!(
        actions,
        [
            Action::SubmitLampid,
            Action::VerifyLampid,
            Action::RegisterLampid,
            Action::RejectLampid,
            Action::SubmitLampid,
        ]
    );
}

fn submission() -> Submission {
    Submission::new(
        TrackingCode::from_random(0x0123_4567_89ab_cdef),
        code(HERE),
        LampidPayload::Kelahiran(kelahiran()),
    )
}

#[test]
fn a_birth_goes_through_all_three_levels() -> Result<(), WorkflowError> {
    let mut s = submission();
    assert_eq!((s.state(), s.version()), (&SubmissionState::Draf, 1));
    s.apply(Transition::Ajukan, OP)?;
    s.apply(
        Transition::Tolak {
            reason: REASON.into(),
        },
        SUP,
    )?;
    let mut corrected = kelahiran();
    corrected.birth_place = "RSUD Kota Madiun".into();
    s.amend(LampidPayload::Kelahiran(corrected.clone()), OP)?;
    s.apply(Transition::AjukanUlang, OP)?;
    s.apply(Transition::Verifikasi, SUP)?;
    assert_eq!(s.apply(Transition::Catat, REG)?, &SubmissionState::Tercatat);
    assert_eq!(s.version(), 7);
    assert_eq!(s.payload(), &LampidPayload::Kelahiran(corrected));
    Ok(())
}

#[test]
fn amend_only_while_the_kelurahan_holds_it() -> Result<(), WorkflowError> {
    let mut s = submission();
    let payload = LampidPayload::Kelahiran(kelahiran());
    assert_eq!(
        s.amend(payload.clone(), SUP),
        Err(WorkflowError::WrongLevel {
            role: SUP,
            expected: OP
        })
    );
    s.apply(Transition::Ajukan, OP)?;
    assert_eq!(
        s.amend(payload, OP),
        Err(WorkflowError::InvalidTransition {
            from: "diajukan",
            transition: "ubah"
        })
    );
    assert_eq!(s.version(), 2, "refused changes keep the version");
    Ok(())
}

#[test]
fn stale_versions_and_exhausted_counters_are_refused() {
    let s = submission();
    assert_eq!(s.check_version(1), Ok(()));
    assert_eq!(
        s.check_version(0),
        Err(WorkflowError::VersionConflict {
            expected: 0,
            actual: 1
        })
    );
    let mut full = Submission::restore(
        s.tracking_code().clone(),
        s.kelurahan().clone(),
        s.payload().clone(),
        SubmissionState::Draf,
        u64::MAX,
    );
    assert_eq!(
        full.apply(Transition::Ajukan, OP),
        Err(WorkflowError::VersionExhausted)
    );
    assert_eq!(full.state(), &SubmissionState::Draf);
}

#[test]
fn submission_json_carries_code_state_and_version() -> Result<(), serde_json::Error> {
    let mut s = submission();
    s.apply(Transition::Ajukan, OP).expect("submit a draft");
    let json = serde_json::to_value(&s)?;
    assert_eq!(json["kode_lacak"], s.tracking_code().as_str());
    assert_eq!(json["status"]["kode"], "diajukan");
    assert_eq!(json["versi"], 2);
    assert_eq!(serde_json::from_value::<Submission>(json)?, s);
    Ok(())
}

/// A step and who takes it: mostly the role whose step it is, so random runs get far.
fn step() -> impl Strategy<Value = (Transition, RoleKind)> {
    (0usize..6, 0usize..9).prop_map(|(t, r)| {
        let transition = match t {
            0 => Transition::Ajukan,
            1 => Transition::Verifikasi,
            2 => Transition::Catat,
            3 => Transition::Tolak {
                reason: REASON.into(),
            },
            4 => Transition::Tolak {
                reason: String::new(),
            },
            _ => Transition::AjukanUlang,
        };
        let role = match (r, t) {
            (r, _) if r < RoleKind::ALL.len() => RoleKind::ALL[r],
            (_, 0 | 5) => OP,
            (_, 1) => SUP,
            (6, _) => SUP,
            _ => REG,
        };
        (transition, role)
    })
}

proptest! {
    #[test]
    fn registration_always_passes_verification(steps in proptest::collection::vec(step(), 0..60)) {
        let mut s = submission();
        // Every state the submission has been in, in order.
        let mut history = vec![s.state().clone()];
        for (transition, role) in steps {
            let before = (s.state().clone(), s.version());
            match s.apply(transition, role) {
                Ok(_) => {
                    prop_assert_eq!(s.version(), before.1 + 1, "each step raises the version");
                    prop_assert_ne!(&before.0, &SubmissionState::Tercatat, "tercatat is final");
                    history.push(s.state().clone());
                }
                Err(_) => prop_assert_eq!((s.state().clone(), s.version()), before),
            }
        }
        for (i, state) in history.iter().enumerate() {
            if *state == SubmissionState::Tercatat {
                prop_assert!(i >= 2);
                prop_assert_eq!(&history[i - 1], &SubmissionState::Diverifikasi);
                prop_assert_eq!(&history[i - 2], &SubmissionState::Diajukan);
            }
        }
    }
}

// --- tracking code -------------------------------------------------------------------------

#[test]
fn tracking_code_reads_as_people_type_it() -> Result<(), TrackingCodeError> {
    let code = TrackingCode::from_random(0x0123_4567_89ab_cdef);
    let shown = code.to_string();
    assert_eq!(shown.len(), 14);
    assert_eq!(shown.matches('-').count(), 2);
    assert_eq!(TrackingCode::parse(&shown)?, code);
    assert_eq!(TrackingCode::parse(&shown.to_lowercase())?, code);
    assert_eq!(TrackingCode::parse(&shown.replace('-', " "))?, code);
    // Zero, one and their look-alikes read the same.
    let zero = TrackingCode::from_random(0);
    assert_eq!(zero.as_str(), "000000000000");
    assert_eq!(TrackingCode::parse("OOOO-oooo-0000")?, zero);
    let ones = TrackingCode::from_random(0x0084_2108_4210_8421);
    assert_eq!(&ones.as_str()[..11], "11111111111");
    let typed: String = ones.to_string().replacen('1', "I", 1).replacen('1', "l", 1);
    assert_eq!(TrackingCode::parse(&typed)?, ones);
    Ok(())
}

#[rstest]
#[case::short("ABCD-EFGH-JKM", TrackingCodeError::Length { found: 11 })]
#[case::long("ABCD-EFGH-JKMNP", TrackingCodeError::Length { found: 13 })]
#[case::letter_u("ABCD-EFGH-JKMU", TrackingCodeError::Character { position: 12 })]
#[case::symbol("A*CD-EFGH-JKMN", TrackingCodeError::Character { position: 2 })]
fn tracking_code_refuses_malformed(#[case] input: &str, #[case] expected: TrackingCodeError) {
    assert_eq!(TrackingCode::parse(input), Err(expected));
}

proptest! {
    #[test]
    fn tracking_code_round_trips(random in any::<u64>()) {
        let code = TrackingCode::from_random(random);
        prop_assert_eq!(code.as_str().len(), TrackingCode::LEN);
        prop_assert!(code.as_str().bytes().all(|b| ALPHABET.contains(&b)));
        prop_assert_eq!(TrackingCode::parse(&code.to_string()), Ok(code.clone()));
        // Only the low 55 bits matter.
        prop_assert_eq!(TrackingCode::from_random(random | (0x1ff << 55)), code);
    }

    #[test]
    fn tracking_code_catches_any_one_mistyped_symbol(
        random in any::<u64>(),
        position in 0..TrackingCode::LEN,
        shift in 1u8..32,
    ) {
        let code = TrackingCode::from_random(random);
        let mut symbols: Vec<u8> = code.as_str().bytes().collect();
        let value = ALPHABET.iter().position(|&a| a == symbols[position]).unwrap_or(0);
        symbols[position] = ALPHABET[(value + usize::from(shift)) % 32];
        let typo = String::from_utf8(symbols).unwrap_or_default();
        prop_assert_eq!(TrackingCode::parse(&typo), Err(TrackingCodeError::Checksum));
    }

    #[test]
    fn tracking_code_parse_never_panics(input in "\\PC{0,20}") {
        let _ = TrackingCode::parse(&input);
    }
}
