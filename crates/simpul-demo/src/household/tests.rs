//! Household invariants over a few thousand draws: one head first, spouses agreeing,
//! parents named and old enough, every relationship and status represented.

use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use simpul_domain::{FamilyRelationship as Rel, MaritalStatus as Marital, Sex};

use super::{Member, household};
use crate::ages::age_on;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn households(n: usize) -> Vec<Vec<Member>> {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    (0..n).map(|_| household(&mut rng, today())).collect()
}

fn married(status: Marital) -> bool {
    matches!(status, Marital::KawinTercatat | Marital::KawinBelumTercatat)
}

#[test]
fn one_head_listed_first_and_spouses_share_a_status() {
    for members in households(3_000) {
        let head = &members[0];
        assert_eq!(head.relationship, Rel::KepalaKeluarga);
        let heads = members
            .iter()
            .filter(|m| m.relationship == Rel::KepalaKeluarga);
        assert_eq!(heads.count(), 1);
        let spouses: Vec<&Member> = members
            .iter()
            .filter(|m| matches!(m.relationship, Rel::Istri | Rel::Suami))
            .collect();
        assert!(spouses.len() <= 1);
        if let Some(spouse) = spouses.first() {
            assert!(married(head.marital));
            assert_eq!(spouse.marital, head.marital);
            assert_ne!(spouse.sex, head.sex);
            let expected = if head.sex == Sex::LakiLaki {
                Rel::Istri
            } else {
                Rel::Suami
            };
            assert_eq!(spouse.relationship, expected);
        } else {
            assert!(!married(head.marital), "a married head without a spouse");
        }
        for member in &members {
            assert!(!member.mother.trim().is_empty() && !member.father.trim().is_empty());
            assert!(member.birth <= today());
        }
    }
}

#[test]
fn children_name_the_parents_who_live_with_them() {
    for members in households(3_000) {
        let names_of = |rel: &[Rel]| -> Vec<&str> {
            members
                .iter()
                .filter(|m| rel.contains(&m.relationship))
                .map(|m| m.name.as_str())
                .collect()
        };
        let couple = names_of(&[Rel::KepalaKeluarga, Rel::Istri, Rel::Suami]);
        let parents_of_cucu = names_of(&[Rel::Anak, Rel::Menantu]);
        let elders = names_of(&[Rel::OrangTua, Rel::Mertua]);
        for member in &members {
            let parents = [member.father.as_str(), member.mother.as_str()];
            match member.relationship {
                Rel::Anak => assert!(parents.iter().any(|p| couple.contains(p))),
                Rel::Cucu => assert!(parents.iter().all(|p| parents_of_cucu.contains(p))),
                _ => {}
            }
            // Children are at least 18 years younger than the parents living with
            // them: the head's couple for an Anak, the married Anak and Menantu for a
            // Cucu.
            let parent_roles: &[Rel] = match member.relationship {
                Rel::Anak => &[Rel::KepalaKeluarga, Rel::Istri, Rel::Suami],
                Rel::Cucu => &[Rel::Anak, Rel::Menantu],
                _ => &[],
            };
            for parent in members.iter().filter(|p| {
                parent_roles.contains(&p.relationship)
                    && p.marital != Marital::BelumKawin
                    && parents.contains(&p.name.as_str())
            }) {
                assert!(age_on(parent.birth, member.birth) >= 18);
            }
        }
        // An elder living in is named as a parent of the head or of the spouse.
        for elder in elders {
            let linked = members[..2.min(members.len())]
                .iter()
                .any(|m| m.father == elder || m.mother == elder);
            assert!(linked, "elder not linked to head or spouse");
        }
    }
}

#[test]
fn every_kind_of_household_appears() {
    let all = households(3_000);
    let has = |rel: Rel| all.iter().any(|h| h.iter().any(|m| m.relationship == rel));
    for rel in [
        Rel::Istri,
        Rel::Suami,
        Rel::Anak,
        Rel::Menantu,
        Rel::Cucu,
        Rel::OrangTua,
        Rel::Mertua,
        Rel::FamiliLain,
        Rel::Pembantu,
    ] {
        assert!(has(rel), "{rel:?} missing");
    }
    let head_status = |status: Marital| all.iter().any(|h| h[0].marital == status);
    for status in [
        Marital::BelumKawin,
        Marital::KawinTercatat,
        Marital::KawinBelumTercatat,
        Marital::CeraiHidupTercatat,
        Marital::CeraiMati,
    ] {
        assert!(head_status(status), "{status:?} missing");
    }
    assert!(all.iter().any(|h| h.len() == 1));
}
