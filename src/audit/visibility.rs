//! Which readers of a customer's audit log see an event, decided when the event is written: an
//! event shows what its target was and became, so it must be as hidden as the target. Readers
//! who see every group (staff, a customer's people of data scope `all`) see every event of the
//! customers they see; a reader limited to groups G sees an event about untagged data, or one
//! whose groups are all in G (see [`super::queries::list`]).

use uuid::Uuid;

use crate::permissions::DataScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// About untagged data (the customer, its cost centers, an untagged address): every reader.
    Everyone,
    /// About data of these groups: readers who see every one of them.
    Groups(Vec<Uuid>),
    /// About someone no group covers (a person who sees `all`; a target whose groups are
    /// unknown): only readers who see every group.
    Unlimited,
}

impl Visibility {
    /// An event about a person, an invitation or an API client of data scope `scope` in
    /// `groups` (see [`crate::policy::covers`]): `all` only for readers who see every group; a
    /// `groups`-scoped one in no group (untagged data only) for every reader.
    pub fn person(scope: DataScope, groups: &[Uuid]) -> Self {
        match scope {
            DataScope::All => Self::Unlimited,
            DataScope::Groups if groups.is_empty() => Self::Everyone,
            DataScope::Groups => Self::Groups(normalized(groups.to_vec())),
        }
    }

    /// An event about data tagged with `group`, or untagged (`None`).
    pub fn tag(group: Option<Uuid>) -> Self {
        match group {
            None => Self::Everyone,
            Some(group) => Self::Groups(vec![group]),
        }
    }

    /// An event that shows both subjects (a change from one tag or set of groups to another):
    /// only readers who may see both. "Unlimited readers only" wins; otherwise the groups of
    /// both sides; everyone only when both sides are untagged.
    pub fn join(self, other: Self) -> Self {
        match (self, other) {
            (Self::Unlimited, _) | (_, Self::Unlimited) => Self::Unlimited,
            (Self::Everyone, side) | (side, Self::Everyone) => side,
            (Self::Groups(mut left), Self::Groups(right)) => {
                left.extend(right);
                Self::Groups(normalized(left))
            }
        }
    }

    /// The `visible_groups` column: NULL for everyone, `'{}'` for unlimited readers only, else
    /// the groups. An empty `Groups` is stored as `'{}'`, the narrower reading.
    pub(super) fn stored(&self) -> Option<Vec<Option<Uuid>>> {
        match self {
            Self::Everyone => None,
            Self::Groups(groups) => Some(groups.iter().copied().map(Some).collect()),
            Self::Unlimited => Some(Vec::new()),
        }
    }
}

fn normalized(mut groups: Vec<Uuid>) -> Vec<Uuid> {
    groups.sort();
    groups.dedup();
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (Uuid, Uuid) {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        (a.min(b), a.max(b))
    }

    #[test]
    fn a_change_is_seen_only_by_readers_who_see_both_sides() {
        let (x, y) = ids();
        let moved = Visibility::tag(Some(y)).join(Visibility::tag(Some(x)));
        assert_eq!(moved, Visibility::Groups(vec![x, y]));
        assert_eq!(Visibility::tag(None).join(Visibility::tag(Some(x))), Visibility::Groups(vec![x]));
        assert_eq!(Visibility::tag(None).join(Visibility::tag(None)), Visibility::Everyone);
        // A person narrowed from `all` stays hidden from group-limited readers.
        let all = Visibility::person(DataScope::All, &[]);
        assert_eq!(all.join(Visibility::person(DataScope::Groups, &[x])), Visibility::Unlimited);
        assert_eq!(
            Visibility::person(DataScope::Groups, &[x]).join(Visibility::Unlimited),
            Visibility::Unlimited
        );
        assert_eq!(Visibility::person(DataScope::Groups, &[y, x, y]), Visibility::Groups(vec![x, y]));
        // `groups` in no group sees untagged data only, which every reader sees too.
        assert_eq!(Visibility::person(DataScope::Groups, &[]), Visibility::Everyone);
    }

    #[test]
    fn the_stored_form_tells_everyone_from_unlimited_readers_only() {
        let (x, _) = ids();
        assert_eq!(Visibility::Everyone.stored(), None);
        assert_eq!(Visibility::Unlimited.stored(), Some(vec![]));
        assert_eq!(Visibility::Groups(vec![]).stored(), Some(vec![]));
        assert_eq!(Visibility::tag(Some(x)).stored(), Some(vec![Some(x)]));
    }
}
