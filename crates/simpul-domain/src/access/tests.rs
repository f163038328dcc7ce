//! The gate's policy, cell by cell, and its properties.

use super::*;
use Action::*;
use Decision::{Allowed, Denied};
use DenyReason::*;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use rstest::rstest;

fn code(s: &str) -> KodeWilayah {
    KodeWilayah::parse(s).expect("test region code")
}

fn agency(s: &str) -> AgencyId {
    AgencyId::parse(s).expect("test agency")
}

fn actor(role: Role) -> Actor {
    let id = ActorId::parse("tester").expect("test actor id");
    Actor { id, role }
}

/// What one (role, action) cell must answer on four resources: a region inside the
/// actor's jurisdiction (or grant), one just outside it, the hub, another agency's data.
#[derive(Debug, Clone, Copy)]
enum Cell {
    Any,
    Own,
    Agreed,
    Sod,
    Lacks,
}
const ANY: Cell = Cell::Any;
const OWN: Cell = Cell::Own;
const AGREED: Cell = Cell::Agreed;
const SOD: Cell = Cell::Sod;
const LACKS: Cell = Cell::Lacks;

impl Cell {
    fn expected(self) -> [Decision; 4] {
        match self {
            Cell::Any => [Allowed; 4],
            Cell::Own => [
                Allowed,
                Denied(OutsideJurisdiction),
                Denied(OutsideJurisdiction),
                Denied(OutsideJurisdiction),
            ],
            Cell::Agreed => [
                Allowed,
                Denied(OutsideAgreement),
                Denied(OutsideAgreement),
                Denied(OutsideAgreement),
            ],
            Cell::Sod => [Denied(SeparationOfDuties); 4],
            Cell::Lacks => [Denied(RoleLacksAction); 4],
        }
    }
}

/// The policy as it must read. ANY: allowed everywhere. OWN: only inside the actor's
/// region. AGREED: only inside the grant's region. SOD / LACKS: refused everywhere for
/// separation of duties / because the role lacks the action.
#[rustfmt::skip]
const MATRIX: [(Action, [Cell; 6]); 20] = [
    //                   operator supervisor registrar analyst auditor admin
    (ReadRegions,       [ANY,     ANY,       ANY,      ANY,    ANY,    ANY]),
    (ReadStatistics,    [ANY,     ANY,       ANY,      ANY,    ANY,    ANY]),
    (ReadResident,      [OWN,     OWN,       OWN,      AGREED, SOD,    SOD]),
    (SearchResidents,   [OWN,     OWN,       OWN,      AGREED, SOD,    SOD]),
    (ReadFamily,        [OWN,     OWN,       OWN,      AGREED, SOD,    SOD]),
    (VerifyNik,         [OWN,     OWN,       OWN,      AGREED, SOD,    SOD]),
    (VerifyNikBatch,    [OWN,     OWN,       OWN,      AGREED, SOD,    SOD]),
    (ReadLampid,        [OWN,     OWN,       OWN,      LACKS,  SOD,    SOD]),
    (SubmitLampid,      [OWN,     SOD,       SOD,      LACKS,  SOD,    SOD]),
    (VerifyLampid,      [SOD,     OWN,       SOD,      LACKS,  SOD,    SOD]),
    (RegisterLampid,    [SOD,     SOD,       OWN,      LACKS,  SOD,    SOD]),
    (RejectLampid,      [SOD,     OWN,       OWN,      LACKS,  SOD,    SOD]),
    (ReadAccessLog,     [LACKS,   LACKS,     LACKS,    LACKS,  ANY,    SOD]),
    (ReadLedger,        [LACKS,   LACKS,     LACKS,    LACKS,  ANY,    SOD]),
    (ReadAccessHistory, [OWN,     OWN,       OWN,      LACKS,  ANY,    SOD]),
    (ManageUsers,       [LACKS,   LACKS,     LACKS,    LACKS,  SOD,    ANY]),
    (ManageClients,     [LACKS,   LACKS,     LACKS,    LACKS,  SOD,    ANY]),
    (ManageKeys,        [LACKS,   LACKS,     LACKS,    LACKS,  SOD,    ANY]),
    (ReadAlerts,        [LACKS,   LACKS,     LACKS,    LACKS,  ANY,    ANY]),
    (AcknowledgeAlerts, [LACKS,   LACKS,     LACKS,    LACKS,  SOD,    ANY]),
];

/// One actor per role (in [`RoleKind::ALL`] order), with a kelurahan inside its
/// jurisdiction and the nearest one outside it.
fn fixtures() -> Vec<(Actor, KodeWilayah, KodeWilayah)> {
    let regional = |role: Result<Role, RoleError>, inside, outside| {
        (
            actor(role.expect("fixture role")),
            code(inside),
            code(outside),
        )
    };
    vec![
        // A sibling kelurahan in the same kecamatan is already outside.
        regional(
            Role::operator(code("35.77.01.1001")),
            "35.77.01.1001",
            "35.77.01.1002",
        ),
        regional(
            Role::supervisor(code("35.77.01")),
            "35.77.01.1002",
            "35.77.02.1001",
        ),
        regional(
            Role::registrar(code("35.77")),
            "35.77.02.1001",
            "35.78.01.1001",
        ),
        // Inside and outside the bpjs grant's kecamatan (see `matrix_grants`).
        regional(
            Ok(Role::AgencyAnalyst {
                agency: agency("bpjs"),
            }),
            "35.77.01.1003",
            "35.77.02.1003",
        ),
        regional(Ok(Role::Auditor), "35.77.01.1001", "35.78.01.1001"),
        regional(Ok(Role::Administrator), "35.77.01.1001", "35.78.01.1001"),
    ]
}

/// bpjs may do everything (as far as its agreement could say) in one kecamatan. Another
/// agency may do everything in the whole province, which must not help bpjs.
fn matrix_grants() -> Vec<AgencyGrant> {
    let all: BTreeSet<Action> = Action::ALL.into();
    vec![
        AgencyGrant {
            agency: agency("bpjs"),
            actions: all.clone(),
            region: code("35.77.01"),
        },
        AgencyGrant {
            agency: agency("dinsos"),
            actions: all,
            region: code("35"),
        },
    ]
}

#[test]
fn matrix_every_role_action_and_resource() {
    let actions: Vec<Action> = MATRIX.iter().map(|(action, _)| *action).collect();
    assert_eq!(actions, Action::ALL, "one matrix row per action, in order");
    let fixtures = fixtures();
    let kinds: Vec<RoleKind> = fixtures.iter().map(|(a, ..)| a.role.kind()).collect();
    assert_eq!(
        kinds,
        RoleKind::ALL,
        "one fixture per role, in column order"
    );

    let grants = matrix_grants();
    let other_agency = agency("dinsos");
    let mut wrong = Vec::new();
    for (action, cells) in MATRIX {
        for ((actor, inside, outside), cell) in fixtures.iter().zip(cells) {
            let resources = [
                ("inside", Resource::Region(inside)),
                ("outside", Resource::Region(outside)),
                ("hub", Resource::Hub),
                ("other agency", Resource::Agency(&other_agency)),
            ];
            for ((label, resource), expected) in resources.into_iter().zip(cell.expected()) {
                let got = authorize(actor, action, resource, &grants);
                if got != expected {
                    let role = actor.role.kind();
                    wrong.push(format!(
                        "{role} {action:?} {label}: {got:?}, expected {expected:?}"
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "policy differs from the matrix:\n{}",
        wrong.join("\n")
    );
}

#[rstest]
// A request over a wider region than the jurisdiction is outside it, even though the
// jurisdiction lies inside the request.
#[case::operator_own_kelurahan(Role::operator(code("35.77.01.1001")), "35.77.01.1001", true)]
#[case::operator_own_kecamatan(Role::operator(code("35.77.01.1001")), "35.77.01", false)]
#[case::supervisor_own_kecamatan(Role::supervisor(code("35.77.01")), "35.77.01", true)]
#[case::supervisor_own_city(Role::supervisor(code("35.77.01")), "35.77", false)]
#[case::registrar_kecamatan(Role::registrar(code("35.77")), "35.77.05", true)]
#[case::registrar_own_city(Role::registrar(code("35.77")), "35.77", true)]
#[case::registrar_province(Role::registrar(code("35.77")), "35", false)]
#[case::registrar_same_number_other_province(
    Role::registrar(code("35.77")),
    "36.77.01.1001",
    false
)]
fn search_scope_boundaries(
    #[case] role: Result<Role, RoleError>,
    #[case] region: &str,
    #[case] allowed: bool,
) {
    let actor = actor(role.expect("case role"));
    let decision = authorize(
        &actor,
        SearchResidents,
        Resource::Region(&code(region)),
        &[],
    );
    assert_eq!(decision.is_allowed(), allowed, "{decision:?}");
}

#[test]
fn analyst_needs_a_grant_of_their_own_agency_naming_the_action() {
    let analyst = actor(Role::AgencyAnalyst {
        agency: agency("bpjs"),
    });
    let kelurahan = code("35.77.01.1001");
    let here = Resource::Region(&kelurahan);
    let grant = |agency_slug: &str, actions: &[Action], region: &str| AgencyGrant {
        agency: agency(agency_slug),
        actions: actions.iter().copied().collect(),
        region: code(region),
    };
    let ask =
        |action, resource, grants: &[AgencyGrant]| authorize(&analyst, action, resource, grants);
    // No grants at all, and another agency's grant for exactly this.
    assert_eq!(ask(VerifyNik, here, &[]), Denied(NoAgreement));
    let others = [grant("dinsos", &[VerifyNik], "35.77")];
    assert_eq!(ask(VerifyNik, here, &others), Denied(NoAgreement));
    // Single checks do not imply batch checks or reading the record.
    let single = [grant("bpjs", &[VerifyNik], "35.77")];
    assert_eq!(ask(VerifyNik, here, &single), Allowed);
    assert_eq!(ask(VerifyNikBatch, here, &single), Denied(NoAgreement));
    assert_eq!(ask(ReadResident, here, &single), Denied(NoAgreement));
    // A grant for one kelurahan does not cover a search over its kecamatan.
    let narrow = [grant("bpjs", &[SearchResidents], "35.77.01.1001")];
    assert_eq!(ask(SearchResidents, here, &narrow), Allowed);
    let kecamatan = code("35.77.01");
    let wider = Resource::Region(&kecamatan);
    assert_eq!(
        ask(SearchResidents, wider, &narrow),
        Denied(OutsideAgreement)
    );
    // Of several grants naming the action, any one covering the resource suffices.
    let two = [
        grant("bpjs", &[ReadFamily], "35.78"),
        grant("bpjs", &[ReadFamily], "35.77.01"),
    ];
    assert_eq!(ask(ReadFamily, here, &two), Allowed);
}

#[test]
fn a_grant_covers_its_agency_actions_and_region_only() {
    let grant = AgencyGrant {
        agency: agency("bpjs"),
        actions: BTreeSet::from([ReadFamily]),
        region: code("35.77.01"),
    };
    let (inside, outside) = (code("35.77.01.1001"), code("35.77.02.1001"));
    let bpjs = agency("bpjs");
    assert!(grant.covers(&bpjs, ReadFamily, Resource::Region(&inside)));
    assert!(!grant.covers(&agency("dinsos"), ReadFamily, Resource::Region(&inside)));
    assert!(!grant.covers(&bpjs, ReadResident, Resource::Region(&inside)));
    assert!(!grant.covers(&bpjs, ReadFamily, Resource::Region(&outside)));
    assert!(!grant.covers(&bpjs, ReadFamily, Resource::Agency(&bpjs)));
    assert!(!grant.covers(&bpjs, ReadFamily, Resource::Hub));
}

#[test]
fn auditors_and_administrators_never_touch_personal_data() {
    let grants = matrix_grants();
    let kelurahan = code("35.77.01.1001");
    for role in [Role::Auditor, Role::Administrator] {
        let auditor = matches!(role, Role::Auditor);
        let actor = actor(role);
        // One exception: an auditor may answer who read a resident's data (UU 27/2022's right
        // to know). The answer names actors, purposes and times, never the resident's fields.
        for action in Action::ALL
            .into_iter()
            .filter(|a| a.involves_personal_data())
            .filter(|a| !(auditor && *a == Action::ReadAccessHistory))
        {
            for resource in [Resource::Region(&kelurahan), Resource::Hub] {
                let decision = authorize(&actor, action, resource, &grants);
                assert_eq!(
                    decision,
                    Denied(SeparationOfDuties),
                    "{:?} {action:?}",
                    actor.role
                );
            }
        }
    }
}

#[rstest]
#[case::operator_at_kecamatan(RoleKind::Operator, "35.77.01", RegionLevel::Kecamatan)]
#[case::operator_at_city(RoleKind::Operator, "35.77", RegionLevel::KabupatenKota)]
#[case::supervisor_at_kelurahan(RoleKind::Supervisor, "35.77.01.1001", RegionLevel::KelurahanDesa)]
#[case::supervisor_at_city(RoleKind::Supervisor, "35.77", RegionLevel::KabupatenKota)]
#[case::registrar_at_province(RoleKind::Registrar, "35", RegionLevel::Provinsi)]
#[case::registrar_at_kecamatan(RoleKind::Registrar, "35.77.01", RegionLevel::Kecamatan)]
fn constructors_refuse_a_scope_of_the_wrong_level(
    #[case] kind: RoleKind,
    #[case] scope: &str,
    #[case] found: RegionLevel,
) {
    let built = match kind {
        RoleKind::Operator => Role::operator(code(scope)),
        RoleKind::Supervisor => Role::supervisor(code(scope)),
        _ => Role::registrar(code(scope)),
    };
    let expected = kind.region_level().expect("regional kind");
    let wrong_level = RoleError::WrongLevel {
        role: kind,
        expected,
        found,
    };
    assert_eq!(built, Err(wrong_level.clone()));
    // The stored form goes through the same check.
    assert_eq!(Role::from_parts(kind, Some(scope)), Err(wrong_level));
}

#[rstest]
#[case::operator(RoleKind::Operator, Some("35.77.01.1001"))]
#[case::desa_operator(RoleKind::Operator, Some("35.77.01.2001"))]
#[case::supervisor(RoleKind::Supervisor, Some("35.77.01"))]
#[case::registrar(RoleKind::Registrar, Some("35.77"))]
#[case::analyst(RoleKind::AgencyAnalyst, Some("bpjs-kesehatan"))]
#[case::auditor(RoleKind::Auditor, None)]
#[case::administrator(RoleKind::Administrator, None)]
fn stored_form_round_trips(#[case] kind: RoleKind, #[case] scope: Option<&str>) {
    let role = Role::from_parts(kind, scope).expect("valid stored role");
    assert_eq!(role.kind(), kind);
    assert_eq!(role.scope(), scope);
    assert_eq!(RoleKind::from_code(kind.code()), Some(kind));
}

#[rstest]
#[case::operator_without_scope(RoleKind::Operator, None, RoleError::MissingScope { role: RoleKind::Operator })]
#[case::analyst_without_scope(RoleKind::AgencyAnalyst, None, RoleError::MissingScope { role: RoleKind::AgencyAnalyst })]
#[case::auditor_with_scope(RoleKind::Auditor, Some("35.77"), RoleError::UnexpectedScope { role: RoleKind::Auditor })]
#[case::administrator_with_scope(RoleKind::Administrator, Some("bpjs"), RoleError::UnexpectedScope { role: RoleKind::Administrator })]
#[case::malformed_region(
    RoleKind::Supervisor,
    Some("35.7"),
    RoleError::Region(RegionCodeError::Malformed)
)]
#[case::malformed_agency(RoleKind::AgencyAnalyst, Some("BPJS"), RoleError::Id(IdError::Agency))]
fn stored_form_refusals(
    #[case] kind: RoleKind,
    #[case] scope: Option<&str>,
    #[case] error: RoleError,
) {
    assert_eq!(Role::from_parts(kind, scope), Err(error));
}

#[rstest]
#[case::word("budi", true)]
#[case::email("budi.santoso@kel-ketawanggede.go.id", true)]
#[case::client("client:bpjs-01", true)]
#[case::longest(&"a".repeat(ActorId::MAX_LEN), true)]
#[case::empty("", false)]
#[case::too_long(&"a".repeat(ActorId::MAX_LEN + 1), false)]
#[case::space("budi santoso", false)]
#[case::newline("budi\nadmin", false)]
#[case::non_ascii("budí", false)]
fn actor_ids(#[case] input: &str, #[case] valid: bool) {
    assert_eq!(ActorId::parse(input).is_ok(), valid);
}

#[rstest]
#[case::slug("bpjs-kesehatan", true)]
#[case::digits("bank-9", true)]
#[case::longest(&"a".repeat(AgencyId::MAX_LEN), true)]
#[case::one_letter("b", false)]
#[case::too_long(&"a".repeat(AgencyId::MAX_LEN + 1), false)]
#[case::uppercase("BPJS", false)]
#[case::leading_digit("9bank", false)]
#[case::leading_hyphen("-bpjs", false)]
#[case::underscore("bpjs_kes", false)]
fn agency_ids(#[case] input: &str, #[case] valid: bool) {
    assert_eq!(AgencyId::parse(input).is_ok(), valid);
}

#[test]
fn deserialising_ids_validates_them() {
    let ok: Result<AgencyId, _> = serde_json::from_str("\"bpjs\"");
    assert_eq!(ok.map(String::from).ok().as_deref(), Some("bpjs"));
    assert!(serde_json::from_str::<AgencyId>("\"BPJS\"").is_err());
    assert!(serde_json::from_str::<ActorId>("\"a b\"").is_err());
}

#[test]
fn codes_are_distinct_snake_case_and_match_serde() -> Result<(), serde_json::Error> {
    let snake =
        |code: &str| !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    let mut seen = BTreeSet::new();
    for action in Action::ALL {
        assert!(
            snake(action.code()) && seen.insert(action.code()),
            "{action:?}"
        );
        assert_eq!(
            serde_json::to_string(&action)?,
            format!("\"{}\"", action.code())
        );
        assert_eq!(Action::from_code(action.code()), Some(action));
    }
    for kind in RoleKind::ALL {
        assert_eq!(
            serde_json::to_string(&kind)?,
            format!("\"{}\"", kind.code())
        );
    }
    let mut seen = BTreeSet::new();
    for reason in DenyReason::ALL {
        assert!(
            snake(reason.code()) && seen.insert(reason.code()),
            "{reason:?}"
        );
        assert_eq!(
            serde_json::to_string(&reason)?,
            format!("\"{}\"", reason.code())
        );
    }
    Ok(())
}

#[test]
fn decision_into_result() {
    assert_eq!(Allowed.into_result(), Ok(()));
    assert_eq!(Denied(NoAgreement).into_result(), Err(NoAgreement));
    assert!(!Denied(NoAgreement).is_allowed());
}

/// Actions every role may do anywhere; the properties below are about all the others.
const OPEN: [Action; 2] = [ReadRegions, ReadStatistics];
/// What an agreement can grant.
const GRANTABLE: [Action; 5] = [
    ReadResident,
    SearchResidents,
    ReadFamily,
    VerifyNik,
    VerifyNikBatch,
];

/// Codes from a small alphabet, so that random pairs often share a prefix (siblings,
/// ancestors, the same number in another province) instead of being trivially apart.
fn region(parts: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = KodeWilayah> {
    (
        select(vec!["35", "36"]),
        select(vec!["77", "78"]),
        select(vec!["01", "02"]),
        select(vec!["1001", "1002", "2001"]),
        parts,
    )
        .prop_filter_map("valid code", |(a, b, c, d, n)| {
            KodeWilayah::parse(&[a, b, c, d][..n].join(".")).ok()
        })
}

fn agency_id() -> impl Strategy<Value = AgencyId> {
    select(vec!["bpjs", "dinsos"]).prop_filter_map("valid agency", |s| AgencyId::parse(s).ok())
}

fn grant() -> impl Strategy<Value = AgencyGrant> {
    (
        agency_id(),
        subsequence(Action::ALL.to_vec(), 0..=Action::ALL.len()),
        region(1..=4),
    )
        .prop_map(|(agency, actions, region)| AgencyGrant {
            agency,
            actions: actions.into_iter().collect(),
            region,
        })
}

/// An owned resource, since [`Resource`] borrows.
#[derive(Debug, Clone)]
enum Target {
    Region(KodeWilayah),
    Agency(AgencyId),
    Hub,
}

impl Target {
    fn resource(&self) -> Resource<'_> {
        match self {
            Target::Region(code) => Resource::Region(code),
            Target::Agency(agency) => Resource::Agency(agency),
            Target::Hub => Resource::Hub,
        }
    }
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        4 => region(1..=4).prop_map(Target::Region),
        1 => agency_id().prop_map(Target::Agency),
        1 => Just(Target::Hub),
    ]
}

proptest! {
    #[test]
    fn operator_never_acts_outside_their_kelurahan(
        kelurahan in region(4..=4),
        target in target(),
        action in select(Action::ALL.to_vec()),
        grants in proptest::collection::vec(grant(), 0..4),
    ) {
        prop_assume!(!OPEN.contains(&action));
        prop_assume!(!matches!(&target, Target::Region(code) if code.is_within(&kelurahan)));
        let operator = actor(Role::operator(kelurahan)?);
        prop_assert!(!authorize(&operator, action, target.resource(), &grants).is_allowed());
    }

    #[test]
    fn analyst_acts_only_under_a_matching_grant(
        own in agency_id(),
        target in target(),
        action in select(Action::ALL.to_vec()),
        grants in proptest::collection::vec(grant(), 0..5),
    ) {
        prop_assume!(!OPEN.contains(&action));
        let matching = grants.iter().any(|g| {
            g.agency == own
                && g.actions.contains(&action)
                && matches!(&target, Target::Region(code) if code.is_within(&g.region))
        });
        let analyst = actor(Role::AgencyAnalyst { agency: own });
        let decision = authorize(&analyst, action, target.resource(), &grants);
        // Never without a matching grant; with one, exactly for what agreements may grant.
        prop_assert_eq!(decision.is_allowed(), matching && GRANTABLE.contains(&action));
    }

    #[test]
    fn deny_reason_codes_are_distinct(
        a in select(DenyReason::ALL.to_vec()),
        b in select(DenyReason::ALL.to_vec()),
    ) {
        prop_assert_eq!(a == b, a.code() == b.code());
    }
}
