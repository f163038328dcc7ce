//! Who lives together: the household kinds, and for each member the name, sex, birth date,
//! relationship to the head (SHDK) and marital status, before any number is issued.
//!
//! Every household has exactly one Kepala Keluarga, listed first, and the card order that
//! follows (spouse, children by age, menantu, cucu, orang tua/mertua, famili lain,
//! pembantu). Relationships and statuses agree with each other: a head with an Istri or
//! Suami is married with the same status; a widowed head is Cerai Mati and has no spouse;
//! Anak of the head's couple carry the head's and spouse's names as parents; Cucu carry
//! those of the married Anak and the Menantu; when an Orang Tua or Mertua lives in, the
//! head's (or spouse's) parent name is theirs. Parents who do not live in the household
//! (deceased, divorced, elsewhere) get a generated name, so `mother_name` is never empty.
//!
//! The mix of kinds is tuned so a city comes out near Kota Madiun (2020 census: about
//! three residents per family card, a fifth under 15, a tenth 65 or older, slightly more
//! women, mostly from widows outliving their husbands).

mod members;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use rand::Rng;
use simpul_domain::{FamilyRelationship as Rel, MaritalStatus as Marital, Religion, Sex};

use crate::ages::{self, age_from, age_on};
use crate::names::ChildNaming;
use crate::{person, weighted};
use members::Builder;

/// One household member, before numbers, education and occupation are decided.
pub(crate) struct Member {
    pub(crate) name: String,
    pub(crate) sex: Sex,
    pub(crate) birth: NaiveDate,
    pub(crate) marital: Marital,
    pub(crate) relationship: Rel,
    pub(crate) father: String,
    pub(crate) mother: String,
    /// The family's religion, except for a live-in helper, who keeps her own.
    pub(crate) religion: Religion,
}

/// The shapes a household takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A married couple with children at home.
    Nuclear,
    /// A married couple alone: newly-weds, or children grown and gone.
    Couple,
    /// A never-married adult with a card of their own.
    Single,
    /// A widow or widower, alone or with unmarried children.
    Widowed,
    /// A divorced head, alone or with the children in their care.
    Divorced,
    /// A head (couple or widowed) with a married child, the child's spouse and the
    /// grandchildren.
    ThreeGenerations,
    /// A couple with children and an elderly parent of either spouse.
    WithElder,
}

/// Household kinds, in percent of family cards. Nuclear families are the plurality, as in
/// every Javanese city; couples whose children have left and widows come next.
const KINDS: &[(Kind, u32)] = &[
    (Kind::Nuclear, 44),
    (Kind::Couple, 14),
    (Kind::Single, 8),
    (Kind::Widowed, 12),
    (Kind::Divorced, 6),
    (Kind::ThreeGenerations, 9),
    (Kind::WithElder, 7),
];
/// Children ever born to a couple, in percent: a total fertility near two, as in urban
/// East Java.
const CHILDREN_BORN: &[(usize, u32)] = &[(1, 24), (2, 38), (3, 23), (4, 10), (5, 5)];
/// Share of widowed heads who are women: wives are younger and outlive their husbands.
const WIDOWS: f64 = 0.8;
/// Chance that households able to afford it (head 35 or older) have a live-in helper
/// registered on their card.
const HELPER: f64 = 0.03;
/// Chance that a nuclear family also shelters a relative's child (Famili Lain).
const RELATIVE: f64 = 0.03;

/// Draws one household; the head is `members[0]`.
pub(crate) fn household(rng: &mut impl Rng, today: NaiveDate) -> Vec<Member> {
    let mut builder = Builder::new(rng, today);
    match weighted(builder.rng, KINDS) {
        Kind::Nuclear => builder.nuclear(),
        Kind::Couple => builder.couple(),
        Kind::Single => builder.single(),
        Kind::Widowed => builder.widowed(),
        Kind::Divorced => builder.divorced(),
        Kind::ThreeGenerations => builder.three_generations(),
        Kind::WithElder => builder.with_elder(),
    }
    builder.members
}

impl<R: Rng> Builder<'_, R> {
    fn nuclear(&mut self) {
        let age = age_from(self.rng, ages::HEAD_NUCLEAR);
        let couple = self.head_couple(age);
        let born = weighted(self.rng, CHILDREN_BORN);
        self.children_at_home(couple, born);
        if self.rng.random_bool(RELATIVE) {
            let age = self.rng.random_range(8..=24);
            let birth = ages::birth_for_age(self.rng, self.today, age);
            let sex = self.child_sex();
            self.add_outsider(sex, birth, Marital::BelumKawin, Rel::FamiliLain);
        }
        self.maybe_helper(age);
    }

    fn couple(&mut self) {
        let age = age_from(self.rng, ages::HEAD_COUPLE);
        self.head_couple(age);
        self.maybe_helper(age);
    }

    fn single(&mut self) {
        let age = age_from(self.rng, ages::SINGLE_YOUNG);
        let birth = ages::birth_for_age(self.rng, self.today, age);
        // Slightly more men: young men more often leave home for work.
        let sex = if self.rng.random_bool(0.55) {
            Sex::LakiLaki
        } else {
            Sex::Perempuan
        };
        self.add_outsider(sex, birth, Marital::BelumKawin, Rel::KepalaKeluarga);
    }

    fn widowed(&mut self) {
        let age = age_from(self.rng, ages::WIDOWED);
        let sex = if self.rng.random_bool(WIDOWS) {
            Sex::Perempuan
        } else {
            Sex::LakiLaki
        };
        let born = weighted(self.rng, CHILDREN_BORN);
        self.lone_parent(age, sex, Marital::CeraiMati, born);
    }

    fn divorced(&mut self) {
        let age = age_from(self.rng, ages::DIVORCED);
        // Mothers usually keep the children, so divorced women head more cards.
        let (sex, custody) = if self.rng.random_bool(0.65) {
            (Sex::Perempuan, 0.8)
        } else {
            (Sex::LakiLaki, 0.3)
        };
        let marital = if self.rng.random_bool(0.85) {
            Marital::CeraiHidupTercatat
        } else {
            Marital::CeraiHidupBelumTercatat
        };
        let born = if self.rng.random_bool(custody) {
            self.rng.random_range(1..=3)
        } else {
            0
        };
        self.lone_parent(age, sex, marital, born);
    }

    fn three_generations(&mut self) {
        let age = age_from(self.rng, ages::HEAD_GRANDPARENT);
        let (father, mother) = if self.rng.random_bool(0.3) {
            let sex = if self.rng.random_bool(WIDOWS) {
                Sex::Perempuan
            } else {
                Sex::LakiLaki
            };
            self.lone_head(age, sex, Marital::CeraiMati)
        } else {
            let couple = self.head_couple(age);
            (self.parent(couple.husband), self.parent(couple.wife))
        };
        let born = self.rng.random_range(2..=5);
        let births = ages::children_births(
            self.rng,
            mother.birth,
            &[father.birth, mother.birth],
            born,
            self.today,
        );
        let naming = ChildNaming::choose(self.rng);
        // The married child is one old enough to have children of their own; often the
        // youngest stays with the parents, but any may.
        let adults: Vec<usize> = (0..births.len())
            .filter(|i| age_on(births[*i], self.today) >= 21)
            .collect();
        let married = (!adults.is_empty()).then(|| adults[self.rng.random_range(0..adults.len())]);
        let mut married_child = None;
        for (order, birth) in births.iter().enumerate() {
            if Some(order) == married {
                // Daughters stay with their parents more often than sons in Java.
                let sex = if self.rng.random_bool(0.6) {
                    Sex::Perempuan
                } else {
                    Sex::LakiLaki
                };
                let status = self.married_status();
                let index = self.child(
                    &father,
                    &mother,
                    sex,
                    *birth,
                    order,
                    naming,
                    Rel::Anak,
                    status,
                );
                married_child = Some(index);
            } else if ages::still_at_home(self.rng, age_on(*birth, self.today)) {
                let sex = self.child_sex();
                self.child(
                    &father,
                    &mother,
                    sex,
                    *birth,
                    order,
                    naming,
                    Rel::Anak,
                    Marital::BelumKawin,
                );
            }
        }
        if let Some(child) = married_child {
            self.menantu_and_cucu(child);
        }
    }

    fn with_elder(&mut self) {
        let age = age_from(self.rng, ages::HEAD_WITH_ELDER);
        let couple = self.head_couple(age);
        let born = weighted(self.rng, CHILDREN_BORN);
        self.children_at_home(couple, born);
        // The head (index 0) is the elder's child for an Orang Tua, the spouse (index 1)
        // for a Mertua.
        let (child, relationship) = if self.rng.random_bool(0.6) {
            (0, Rel::OrangTua)
        } else {
            (1, Rel::Mertua)
        };
        let child_birth = self.members[child].birth;
        let Some(first) = ages::parent_birth(self.rng, child_birth, self.today) else {
            return;
        };
        if self.rng.random_bool(0.15) {
            // Both parents: the older of two draws is the father.
            let second = ages::parent_birth(self.rng, child_birth, self.today).unwrap_or(first);
            let status = self.married_status();
            let father = self.add_outsider(Sex::LakiLaki, first.min(second), status, relationship);
            let mother = self.add_outsider(Sex::Perempuan, first.max(second), status, relationship);
            self.members[child].father = self.members[father].name.clone();
            self.members[child].mother = self.members[mother].name.clone();
        } else {
            let sex = if self.rng.random_bool(WIDOWS) {
                Sex::Perempuan
            } else {
                Sex::LakiLaki
            };
            let elder = self.add_outsider(sex, first, Marital::CeraiMati, relationship);
            let name = self.members[elder].name.clone();
            match sex {
                Sex::LakiLaki => self.members[child].father = name,
                Sex::Perempuan => self.members[child].mother = name,
            }
        }
        self.maybe_helper(age);
    }

    /// The spouse of the married child at `child` (a Menantu) and their children (Cucu).
    fn menantu_and_cucu(&mut self, child: usize) {
        let (sex, birth, status) = {
            let c = &self.members[child];
            (c.sex, c.birth, c.marital)
        };
        let in_law_birth = ages::spouse_birth(self.rng, birth, sex == Sex::LakiLaki, self.today);
        let (in_law_sex, husband_is_child) = match sex {
            Sex::LakiLaki => (Sex::Perempuan, true),
            Sex::Perempuan => (Sex::LakiLaki, false),
        };
        let in_law = self.add_outsider(in_law_sex, in_law_birth, status, Rel::Menantu);
        let (husband, wife) = if husband_is_child {
            (child, in_law)
        } else {
            (in_law, child)
        };
        let (father, mother) = (self.parent(husband), self.parent(wife));
        let count = weighted(self.rng, &[(0, 10), (1, 40), (2, 35), (3, 15)]);
        self.add_children(&father, &mother, count, Rel::Cucu);
    }

    /// A live-in helper, with her own religion and parents elsewhere.
    fn maybe_helper(&mut self, head_age: u32) {
        if head_age < 35 || !self.rng.random_bool(HELPER) {
            return;
        }
        let age = age_from(self.rng, &[(18, 24, 30), (25, 39, 40), (40, 55, 30)]);
        let birth = ages::birth_for_age(self.rng, self.today, age);
        let sex = if self.rng.random_bool(0.85) {
            Sex::Perempuan
        } else {
            Sex::LakiLaki
        };
        let marital = if age < 23 {
            Marital::BelumKawin
        } else {
            weighted(
                self.rng,
                &[
                    (Marital::BelumKawin, 40),
                    (Marital::KawinTercatat, 30),
                    (Marital::CeraiHidupTercatat, 12),
                    (Marital::CeraiMati, 18),
                ],
            )
        };
        let religion = person::religion(self.rng);
        let style = person::name_style(religion);
        let name = self.name(style, sex, birth);
        let (father, mother) = self.absent_parents(style, birth);
        self.members.push(Member {
            name,
            sex,
            birth,
            marital,
            relationship: Rel::Pembantu,
            father,
            mother,
            religion,
        });
    }
}
