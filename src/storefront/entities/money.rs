//! Money in 1/10000 units (the scale of M1's `decimal(12,4)`), rounded to cents as Magento
//! rounds, never through floating point.

/// 1.0000 in decimal(12,4) units.
pub(crate) const ONE: i64 = 10_000;

/// Rounds 1/10000 units to whole cents, half away from zero.
pub(crate) fn round_cents(v: i64) -> i64 {
    if v >= 0 {
        (v + 50) / 100 * 100
    } else {
        -((-v + 50) / 100 * 100)
    }
}

/// `v` × `bp` basis points, rounded to cents.
pub(crate) fn percent_of(v: i64, bp: i64) -> i64 {
    round_cents(v * bp / 10_000)
}

/// An amount in base and in display (order) currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Amt {
    pub base: i64,
    pub cur: i64,
}

impl Amt {
    pub fn of(base: i64, rate: i64) -> Amt {
        Amt {
            base,
            cur: round_cents(base * rate / ONE),
        }
    }

    pub fn add(self, o: Amt) -> Amt {
        Amt {
            base: self.base + o.base,
            cur: self.cur + o.cur,
        }
    }

    pub fn sub(self, o: Amt) -> Amt {
        Amt {
            base: self.base - o.base,
            cur: self.cur - o.cur,
        }
    }

    pub fn neg(self) -> Amt {
        Amt {
            base: -self.base,
            cur: -self.cur,
        }
    }
}

/// 1/10000 units as "12.34", for history comments.
pub(crate) fn display_money(v: i64) -> String {
    let c = round_cents(v) / 100;
    format!("{}.{:02}", c / 100, (c % 100).abs())
}
