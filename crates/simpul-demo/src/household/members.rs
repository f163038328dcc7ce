//! The household builder's primitives: a member whose parents live elsewhere, a child named
//! the way the parents name their children, the head's couple, a head without a spouse,
//! and the children of two parents still living at home. The household kinds in the
//! parent module are put together from these.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use simpul_domain::{FamilyRelationship as Rel, MaritalStatus as Marital, Religion, Sex};

use super::Member;
use crate::ages::{self, age_on};
use crate::names::{self, ChildNaming, NameStyle};
use crate::person;

/// Share of married couples whose card is headed by the wife (Suami as spouse).
const WIFE_HEADS_COUPLE: f64 = 0.02;
/// Share of marriages not registered with the state (kawin siri or adat).
const UNREGISTERED_MARRIAGE: f64 = 0.04;
/// Share of boys among births (a sex ratio at birth of about 105).
const BOYS: f64 = 0.512;

/// A parent by name and birth date, whether or not they live in the household.
pub(super) struct Parent {
    pub(super) name: String,
    pub(super) birth: NaiveDate,
}

/// The members of a married couple, by index.
#[derive(Clone, Copy)]
pub(super) struct Couple {
    pub(super) husband: usize,
    pub(super) wife: usize,
}

/// A household being put together: the members so far (head first), and the family's
/// religion and naming tradition.
pub(super) struct Builder<'a, R: Rng> {
    pub(super) rng: &'a mut R,
    pub(super) today: NaiveDate,
    pub(super) religion: Religion,
    pub(super) style: NameStyle,
    pub(super) members: Vec<Member>,
}

impl<'a, R: Rng> Builder<'a, R> {
    /// An empty household of a religion drawn for the family.
    pub(super) fn new(rng: &'a mut R, today: NaiveDate) -> Self {
        let religion = person::religion(rng);
        Self {
            rng,
            today,
            religion,
            style: person::name_style(religion),
            members: Vec::with_capacity(6),
        }
    }

    /// A widowed or divorced head with the children still at home from the marriage.
    pub(super) fn lone_parent(&mut self, age: u32, sex: Sex, marital: Marital, born: usize) {
        let (father, mother) = self.lone_head(age, sex, marital);
        self.children_of(&father, &mother, born);
    }

    /// A head without a spouse in the household; returns the (father, mother) of the
    /// head's children, one of whom is the absent former spouse.
    pub(super) fn lone_head(&mut self, age: u32, sex: Sex, marital: Marital) -> (Parent, Parent) {
        let birth = ages::birth_for_age(self.rng, self.today, age);
        let head = self.add_outsider(sex, birth, marital, Rel::KepalaKeluarga);
        let head = self.parent(head);
        let other_sex = match sex {
            Sex::LakiLaki => Sex::Perempuan,
            Sex::Perempuan => Sex::LakiLaki,
        };
        let birth = ages::spouse_birth(self.rng, birth, sex == Sex::LakiLaki, self.today);
        let former = Parent {
            name: self.name(self.style, other_sex, birth),
            birth,
        };
        match sex {
            Sex::LakiLaki => (head, former),
            Sex::Perempuan => (former, head),
        }
    }

    /// The head and spouse, married with one status. Most couples' cards are headed by
    /// the husband.
    pub(super) fn head_couple(&mut self, head_age: u32) -> Couple {
        let status = self.married_status();
        let birth = ages::birth_for_age(self.rng, self.today, head_age);
        if self.rng.random_bool(WIFE_HEADS_COUPLE) {
            let husband_birth = ages::spouse_birth(self.rng, birth, false, self.today);
            let wife = self.add_outsider(Sex::Perempuan, birth, status, Rel::KepalaKeluarga);
            let husband = self.add_outsider(Sex::LakiLaki, husband_birth, status, Rel::Suami);
            Couple { husband, wife }
        } else {
            let wife_birth = ages::spouse_birth(self.rng, birth, true, self.today);
            let husband = self.add_outsider(Sex::LakiLaki, birth, status, Rel::KepalaKeluarga);
            let wife = self.add_outsider(Sex::Perempuan, wife_birth, status, Rel::Istri);
            Couple { husband, wife }
        }
    }

    /// Children of the couple, those still at home added as Anak.
    pub(super) fn children_at_home(&mut self, couple: Couple, born: usize) {
        let (father, mother) = (self.parent(couple.husband), self.parent(couple.wife));
        self.children_of(&father, &mother, born);
    }

    /// Up to `born` children of these parents; those still at home are added as Anak.
    pub(super) fn children_of(&mut self, father: &Parent, mother: &Parent, born: usize) {
        if born == 0 {
            return;
        }
        self.add_children(father, mother, born, Rel::Anak);
    }

    /// Up to `born` children of `father` and `mother`, those still living at home added
    /// with `relationship` (Anak to the head, Cucu in a three-generation household).
    pub(super) fn add_children(
        &mut self,
        father: &Parent,
        mother: &Parent,
        born: usize,
        relationship: Rel,
    ) {
        let births = ages::children_births(
            self.rng,
            mother.birth,
            &[father.birth, mother.birth],
            born,
            self.today,
        );
        let naming = ChildNaming::choose(self.rng);
        for (order, birth) in births.into_iter().enumerate() {
            if ages::still_at_home(self.rng, age_on(birth, self.today)) {
                let sex = self.child_sex();
                self.child(
                    father,
                    mother,
                    sex,
                    birth,
                    order,
                    naming,
                    relationship,
                    Marital::BelumKawin,
                );
            }
        }
    }

    /// A member whose parents do not live in the household (the head, a spouse, an
    /// elder, a relative's child), named in the family's tradition; returns the index.
    pub(super) fn add_outsider(
        &mut self,
        sex: Sex,
        birth: NaiveDate,
        marital: Marital,
        relationship: Rel,
    ) -> usize {
        let name = self.name(self.style, sex, birth);
        let (father, mother) = self.absent_parents(self.style, birth);
        self.members.push(Member {
            name,
            sex,
            birth,
            marital,
            relationship,
            father,
            mother,
            religion: self.religion,
        });
        self.members.len() - 1
    }

    /// A child of `father` and `mother`, named the way the parents name their children;
    /// `order` is the birth order among all their children, at home or not.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call per child kind; a struct would only rename the arguments"
    )]
    pub(super) fn child(
        &mut self,
        father: &Parent,
        mother: &Parent,
        sex: Sex,
        birth: NaiveDate,
        order: usize,
        naming: ChildNaming,
        relationship: Rel,
        marital: Marital,
    ) -> usize {
        let name = names::child_name(
            self.rng,
            sex,
            birth.year(),
            self.style,
            &father.name,
            order,
            naming,
        );
        self.members.push(Member {
            name,
            sex,
            birth,
            marital,
            relationship,
            father: father.name.clone(),
            mother: mother.name.clone(),
            religion: self.religion,
        });
        self.members.len() - 1
    }

    pub(super) fn parent(&self, index: usize) -> Parent {
        let member = &self.members[index];
        Parent {
            name: member.name.clone(),
            birth: member.birth,
        }
    }

    pub(super) fn name(&mut self, style: NameStyle, sex: Sex, birth: NaiveDate) -> String {
        names::full_name(self.rng, sex, birth.year(), style)
    }

    /// Names of the parents of someone born on `birth` whose parents live elsewhere (or
    /// have died): a generation older, in the same naming tradition.
    pub(super) fn absent_parents(
        &mut self,
        style: NameStyle,
        birth: NaiveDate,
    ) -> (String, String) {
        let father = names::full_name(self.rng, Sex::LakiLaki, birth.year() - 30, style);
        let mother = names::full_name(self.rng, Sex::Perempuan, birth.year() - 26, style);
        (father, mother)
    }

    pub(super) fn married_status(&mut self) -> Marital {
        if self.rng.random_bool(UNREGISTERED_MARRIAGE) {
            Marital::KawinBelumTercatat
        } else {
            Marital::KawinTercatat
        }
    }

    pub(super) fn child_sex(&mut self) -> Sex {
        if self.rng.random_bool(BOYS) {
            Sex::LakiLaki
        } else {
            Sex::Perempuan
        }
    }
}
