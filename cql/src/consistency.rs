//! Consistency levels, as the native protocol numbers them (`[consistency]`, a `[short]`) and as
//! CQL spells them (`USING CONSISTENCY QUORUM`, the shell's `CONSISTENCY` command).

use std::fmt;
use std::str::FromStr;

/// A consistency level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Consistency {
    Any,
    One,
    Two,
    Three,
    Quorum,
    All,
    LocalQuorum,
    EachQuorum,
    Serial,
    LocalSerial,
    LocalOne,
}

impl Consistency {
    /// Every level, in protocol-code order.
    pub const ALL_LEVELS: [Consistency; 11] = [
        Consistency::Any,
        Consistency::One,
        Consistency::Two,
        Consistency::Three,
        Consistency::Quorum,
        Consistency::All,
        Consistency::LocalQuorum,
        Consistency::EachQuorum,
        Consistency::Serial,
        Consistency::LocalSerial,
        Consistency::LocalOne,
    ];

    /// The protocol code.
    pub fn code(self) -> u16 {
        match self {
            Consistency::Any => 0,
            Consistency::One => 1,
            Consistency::Two => 2,
            Consistency::Three => 3,
            Consistency::Quorum => 4,
            Consistency::All => 5,
            Consistency::LocalQuorum => 6,
            Consistency::EachQuorum => 7,
            Consistency::Serial => 8,
            Consistency::LocalSerial => 9,
            Consistency::LocalOne => 10,
        }
    }

    /// The level for a protocol code, if there is one.
    pub fn from_code(code: u16) -> Option<Consistency> {
        Consistency::ALL_LEVELS.get(usize::from(code)).copied()
    }

    /// The CQL name (`LOCAL_QUORUM`).
    pub fn name(self) -> &'static str {
        match self {
            Consistency::Any => "ANY",
            Consistency::One => "ONE",
            Consistency::Two => "TWO",
            Consistency::Three => "THREE",
            Consistency::Quorum => "QUORUM",
            Consistency::All => "ALL",
            Consistency::LocalQuorum => "LOCAL_QUORUM",
            Consistency::EachQuorum => "EACH_QUORUM",
            Consistency::Serial => "SERIAL",
            Consistency::LocalSerial => "LOCAL_SERIAL",
            Consistency::LocalOne => "LOCAL_ONE",
        }
    }
}

impl fmt::Display for Consistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Consistency {
    type Err = String;

    /// Case-insensitive CQL name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Consistency::ALL_LEVELS
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown consistency level '{s}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for c in Consistency::ALL_LEVELS {
            assert_eq!(Consistency::from_code(c.code()), Some(c));
            assert_eq!(c.name().to_lowercase().parse::<Consistency>(), Ok(c));
        }
        assert_eq!(Consistency::from_code(11), None);
        assert!("MOST".parse::<Consistency>().is_err());
    }
}
