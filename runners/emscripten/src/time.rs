//! Calendar arithmetic for the time imports (`_gmtime_js`, `_localtime_js`, `_mktime_js`,
//! `_timegm_js`, `_tzset_js`), in **UTC**.
//!
//! The runner presents UTC to guests whatever the host's zone is: deterministic, and nothing of the
//! host leaks. The goldens were recorded by node with `TZ=UTC`, so local time is UTC there too.
//!
//! emscripten 3.1.6's `time_t` is 32-bit. The functions here work on `i64` seconds so that the
//! arithmetic cannot overflow; the import decides how to narrow the result (see [`to_time_t`]).

/// Size in bytes of emscripten 3.1.6's `struct tm` (wasm32).
pub const TM_SIZE: usize = 44;

/// Bytes of `struct tm` that `_gmtime_js` writes: `tm_sec` … `tm_yday` (offsets +0 … +28).
pub const TM_GMTIME_BYTES: usize = 32;

/// Bytes of `struct tm` that `_localtime_js` and `_mktime_js` may write: everything up to and
/// including `tm_gmtoff` (+36), not the `tm_zone` pointer at +40.
pub const TM_LOCALTIME_BYTES: usize = 40;

/// `*timezone` written by `_tzset_js`: seconds west of UTC of standard time (0 in UTC).
pub const TZ_TIMEZONE: i32 = 0;

/// `*daylight` written by `_tzset_js`: 1 if the zone has a daylight-saving rule (0 in UTC).
pub const TZ_DAYLIGHT: i32 = 0;

/// `tzname[0]` written by `_tzset_js` (standard time).
///
/// The glue takes the name from JS `Date.prototype.toTimeString()` (`"… GMT+0000 (Coordinated
/// Universal Time)"` under node with `TZ=UTC`), the text inside the parentheses.
pub const TZ_STD_NAME: &str = "Coordinated Universal Time";

/// `tzname[1]` written by `_tzset_js` (daylight time; same as standard time in UTC).
pub const TZ_DST_NAME: &str = "Coordinated Universal Time";

const SECS_PER_DAY: i64 = 86_400;

/// emscripten 3.1.6's `struct tm` (wasm32, little-endian, [`TM_SIZE`] bytes).
///
/// | offset | field |
/// |---|---|
/// | +0 | `tm_sec` |
/// | +4 | `tm_min` |
/// | +8 | `tm_hour` |
/// | +12 | `tm_mday` (1–31) |
/// | +16 | `tm_mon` (0–11) |
/// | +20 | `tm_year` (years since 1900) |
/// | +24 | `tm_wday` (0 = Sunday) |
/// | +28 | `tm_yday` (0–365) |
/// | +32 | `tm_isdst` |
/// | +36 | `tm_gmtoff` (seconds east of UTC) |
/// | +40 | `tm_zone` (guest `const char *`) |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tm {
    /// Seconds after the minute (0–60 when normalised).
    pub sec: i32,
    /// Minutes after the hour (0–59 when normalised).
    pub min: i32,
    /// Hours since midnight (0–23 when normalised).
    pub hour: i32,
    /// Day of the month (1–31 when normalised).
    pub mday: i32,
    /// Months since January (0–11 when normalised).
    pub mon: i32,
    /// Years since 1900.
    pub year: i32,
    /// Days since Sunday (0–6).
    pub wday: i32,
    /// Days since January 1 (0–365).
    pub yday: i32,
    /// Daylight-saving flag: positive in effect, 0 not, negative unknown.
    pub isdst: i32,
    /// Offset from UTC in seconds, east positive.
    pub gmtoff: i32,
    /// Guest pointer to the zone abbreviation (`tm_zone`), 0 for none.
    pub zone: u32,
}

fn get_i32(bytes: &[u8; TM_SIZE], offset: usize) -> i32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[offset..offset + 4]);
    i32::from_le_bytes(word)
}

impl Tm {
    /// Decodes a `struct tm` from guest memory.
    pub fn read(bytes: &[u8; TM_SIZE]) -> Tm {
        Tm {
            sec: get_i32(bytes, 0),
            min: get_i32(bytes, 4),
            hour: get_i32(bytes, 8),
            mday: get_i32(bytes, 12),
            mon: get_i32(bytes, 16),
            year: get_i32(bytes, 20),
            wday: get_i32(bytes, 24),
            yday: get_i32(bytes, 28),
            isdst: get_i32(bytes, 32),
            gmtoff: get_i32(bytes, 36),
            zone: get_i32(bytes, 40).cast_unsigned(),
        }
    }

    /// Encodes all [`TM_SIZE`] bytes. An import that must leave some fields alone (see
    /// [`TM_GMTIME_BYTES`], [`TM_LOCALTIME_BYTES`]) writes only that prefix of the result.
    pub fn to_bytes(&self) -> [u8; TM_SIZE] {
        let words = [
            self.sec,
            self.min,
            self.hour,
            self.mday,
            self.mon,
            self.year,
            self.wday,
            self.yday,
            self.isdst,
            self.gmtoff,
            self.zone.cast_signed(),
        ];
        let mut out = [0u8; TM_SIZE];
        for (chunk, word) in out.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// Writes all [`TM_SIZE`] bytes into `out` (the inverse of [`Tm::read`]).
    pub fn write(&self, out: &mut [u8; TM_SIZE]) {
        *out = self.to_bytes();
    }

    /// The calendar year (`tm_year + 1900`), without overflow.
    pub fn full_year(&self) -> i64 {
        i64::from(self.year) + 1900
    }
}

/// Whether `year` (the full year, proleptic Gregorian) is a leap year.
pub fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days from 1970-01-01 to `year`-`month`-`day` (month 1–12, day 1–31), proleptic Gregorian
/// (H. Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1–12, day 1–31) of a day count from 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Broken-down UTC time of `t` seconds since the epoch (`gmtime`), `isdst` 0, `gmtoff` 0,
/// `zone` 0. `None` if the year does not fit `tm_year` (never for a 32-bit `time_t`).
pub fn gmtime(t: i64) -> Option<Tm> {
    let days = t.div_euclid(SECS_PER_DAY);
    let secs = t.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let yday = days - days_from_civil(year, 1, 1);
    // 1970-01-01 was a Thursday (4).
    let wday = (days + 4).rem_euclid(7);
    Some(Tm {
        sec: i32::try_from(secs % 60).ok()?,
        min: i32::try_from(secs / 60 % 60).ok()?,
        hour: i32::try_from(secs / 3600).ok()?,
        mday: i32::try_from(day).ok()?,
        mon: i32::try_from(month - 1).ok()?,
        year: i32::try_from(year - 1900).ok()?,
        wday: i32::try_from(wday).ok()?,
        yday: i32::try_from(yday).ok()?,
        isdst: 0,
        gmtoff: 0,
        zone: 0,
    })
}

/// Local time of `t` as the runner presents it (`_localtime_js`): UTC, so [`gmtime`] with
/// `isdst` 0 and `gmtoff` 0.
pub fn localtime(t: i64) -> Option<Tm> {
    gmtime(t)
}

/// Seconds since the epoch of `tm` read as UTC (`timegm`, and `mktime` in the runner's UTC),
/// normalising out-of-range fields like C: 31 November is 1 December, month 12 is January of the
/// next year, negative seconds borrow from the minutes, and so on. `wday` and `yday` are ignored on
/// input.
///
/// On success every field of `tm` is rewritten normalised — `sec` … `yday`, **including `year`**,
/// with `isdst` 0 and `gmtoff` 0; `zone` is left alone. (3.1.6's `_mktime_js` forgets to write
/// `tm_year` back; writing it is the C behaviour.) `None` if the normalised year does not fit
/// `tm_year`; `tm` is then unchanged.
pub fn timegm(tm: &mut Tm) -> Option<i64> {
    let month_index = i64::from(tm.mon);
    let year = tm.full_year() + month_index.div_euclid(12);
    let month = month_index.rem_euclid(12) + 1;
    let days = days_from_civil(year, month, 1) + i64::from(tm.mday) - 1;
    let t = days * SECS_PER_DAY
        + i64::from(tm.hour) * 3600
        + i64::from(tm.min) * 60
        + i64::from(tm.sec);
    let normalised = gmtime(t)?;
    *tm = Tm {
        zone: tm.zone,
        ..normalised
    };
    Some(t)
}

/// `mktime` as the runner presents it (`_mktime_js`): local time is UTC, so this is [`timegm`];
/// a negative `isdst` ("unknown") becomes 0.
pub fn mktime(tm: &mut Tm) -> Option<i64> {
    timegm(tm)
}

/// Narrows seconds to emscripten 3.1.6's 32-bit `time_t` the way the glue does (`x | 0` in JS:
/// wrap modulo 2³²).
pub fn to_time_t(t: i64) -> i32 {
    // Wrapping is the documented intent.
    (t & 0xffff_ffff) as u32 as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tm(year: i64, mon: i32, mday: i32, hour: i32, min: i32, sec: i32) -> Tm {
        Tm {
            year: i32::try_from(year - 1900).expect("year fits"),
            mon,
            mday,
            hour,
            min,
            sec,
            ..Tm::default()
        }
    }

    type GmtimeRow = (i64, i64, i32, i32, i32, i32, i32, i32, i32);

    /// (t, year, mon 0-based, mday, hour, min, sec, wday, yday), from Python's
    /// `time.gmtime(t)` under `TZ=UTC`, pasted here.
    const GMTIME: &[GmtimeRow] = &[
        (0, 1970, 0, 1, 0, 0, 0, 4, 0),
        (-1, 1969, 11, 31, 23, 59, 59, 3, 364),
        (-86_400, 1969, 11, 31, 0, 0, 0, 3, 364),
        (-86_401, 1969, 11, 30, 23, 59, 59, 2, 363),
        (1_700_000_000, 2023, 10, 14, 22, 13, 20, 2, 317),
        (951_782_400, 2000, 1, 29, 0, 0, 0, 2, 59),
        (978_220_800, 2000, 11, 31, 0, 0, 0, 0, 365),
        (1_709_208_000, 2024, 1, 29, 12, 0, 0, 4, 59),
        (i32::MAX as i64, 2038, 0, 19, 3, 14, 7, 2, 18),
        (i32::MIN as i64, 1901, 11, 13, 20, 45, 52, 5, 346),
        (-2_208_988_800, 1900, 0, 1, 0, 0, 0, 1, 0),
        (-62_135_596_800, 1, 0, 1, 0, 0, 0, 1, 0),
        (253_402_300_799, 9999, 11, 31, 23, 59, 59, 5, 364),
        (4_107_542_400, 2100, 2, 1, 0, 0, 0, 1, 59),
    ];

    #[test]
    fn gmtime_table() {
        for &(t, year, mon, mday, hour, min, sec, wday, yday) in GMTIME {
            let got = gmtime(t).expect("in range");
            let want = Tm {
                wday,
                yday,
                ..tm(year, mon, mday, hour, min, sec)
            };
            assert_eq!(got, want, "gmtime({t})");
            assert_eq!(localtime(t), Some(want), "localtime({t})");
        }
    }

    #[test]
    fn timegm_inverts_gmtime() {
        for &(t, ..) in GMTIME {
            let mut broken = gmtime(t).expect("in range");
            broken.wday = 99;
            broken.yday = -5;
            assert_eq!(timegm(&mut broken), Some(t));
            assert_eq!(Some(broken), gmtime(t));
        }
        // Every day over several leap cycles, at an odd time of day, both signs.
        for day in -800_i64..800 {
            let t = day * 86_400 * 3 + 12_345;
            let mut broken = gmtime(t).expect("in range");
            assert_eq!(timegm(&mut broken), Some(t), "day {day}");
        }
    }

    #[test]
    fn timegm_normalises_like_c() {
        // Golden: mktime(2023-11-31) = 1701388800, "2023-12-01 00:00:00 wday=5 yday=334".
        let mut over = Tm {
            isdst: -1,
            ..tm(2023, 10, 31, 0, 0, 0)
        };
        assert_eq!(mktime(&mut over), Some(1_701_388_800));
        assert_eq!(
            over,
            Tm {
                wday: 5,
                yday: 334,
                ..tm(2023, 11, 1, 0, 0, 0)
            }
        );
        // Golden: mktime(2024-02-29 12:00:00) = 1709208000, wday=4 yday=59 isdst=0.
        let mut leap = Tm {
            isdst: -1,
            ..tm(2024, 1, 29, 12, 0, 0)
        };
        assert_eq!(mktime(&mut leap), Some(1_709_208_000));
        assert_eq!((leap.wday, leap.yday, leap.isdst), (4, 59, 0));

        // Month 12 → January of the next year (the year is written back).
        let mut m13 = tm(2023, 12, 1, 0, 0, 0);
        assert_eq!(timegm(&mut m13), Some(1_704_067_200));
        assert_eq!(
            (m13.year, m13.mon, m13.mday, m13.yday, m13.wday),
            (124, 0, 1, 0, 1)
        );
        // Month -1 → December of the previous year.
        let mut m_1 = tm(2024, -1, 1, 0, 0, 0);
        assert_eq!(timegm(&mut m_1), Some(1_701_388_800));
        assert_eq!((m_1.year, m_1.mon, m_1.mday), (123, 11, 1));
        // Day 0 → last day of the previous month; Dec 32 → Jan 1 next year.
        let mut d0 = tm(2024, 2, 0, 0, 0, 0);
        timegm(&mut d0).expect("in range");
        assert_eq!((d0.year, d0.mon, d0.mday, d0.yday), (124, 1, 29, 59));
        let mut d32 = tm(2023, 11, 32, 0, 0, 0);
        assert_eq!(timegm(&mut d32), Some(1_704_067_200));
        assert_eq!((d32.year, d32.mon, d32.mday), (124, 0, 1));
        // Negative seconds borrow across midnight and the year.
        let mut neg = tm(2024, 0, 1, 0, 0, -1);
        assert_eq!(timegm(&mut neg), Some(1_704_067_199));
        assert_eq!(neg, gmtime(1_704_067_199).expect("in range"));
        assert_eq!(
            (neg.year, neg.mon, neg.mday, neg.hour, neg.min, neg.sec),
            (123, 11, 31, 23, 59, 59)
        );
        // Hours and minutes overflow.
        let mut hm = tm(2023, 10, 14, 46, 133, 80);
        assert_eq!(timegm(&mut hm), Some(1_700_093_660));
        assert_eq!(
            (hm.mday, hm.hour, hm.min, hm.sec, hm.yday),
            (16, 0, 14, 20, 319)
        );
        // isdst and gmtoff are reset, the zone pointer is kept.
        let mut z = Tm {
            isdst: 1,
            gmtoff: 3600,
            zone: 0x1234,
            ..tm(2023, 0, 1, 0, 0, 0)
        };
        timegm(&mut z).expect("in range");
        assert_eq!((z.isdst, z.gmtoff, z.zone), (0, 0, 0x1234));
    }

    #[test]
    fn timegm_extreme_fields_do_not_overflow() {
        let mut huge = Tm {
            year: i32::MAX,
            mon: i32::MAX,
            mday: i32::MAX,
            hour: i32::MAX,
            min: i32::MAX,
            sec: i32::MAX,
            ..Tm::default()
        };
        let before = huge;
        assert_eq!(timegm(&mut huge), None);
        assert_eq!(huge, before, "unchanged on failure");
        let mut tiny = Tm {
            year: i32::MIN,
            mon: i32::MIN,
            mday: i32::MIN,
            ..Tm::default()
        };
        assert_eq!(timegm(&mut tiny), None);
        assert!(gmtime(i64::MAX / 2).is_none());
    }

    #[test]
    fn tm_bytes_round_trip_and_offsets() {
        let value = Tm {
            sec: 1,
            min: 2,
            hour: 3,
            mday: 4,
            mon: 5,
            year: -6,
            wday: 7,
            yday: 8,
            isdst: -1,
            gmtoff: -3600,
            zone: 0xdead_beef,
        };
        let bytes = value.to_bytes();
        assert_eq!(&bytes[0..4], &1i32.to_le_bytes());
        assert_eq!(&bytes[16..20], &5i32.to_le_bytes());
        assert_eq!(&bytes[20..24], &(-6i32).to_le_bytes());
        assert_eq!(&bytes[28..32], &8i32.to_le_bytes());
        assert_eq!(&bytes[32..36], &(-1i32).to_le_bytes());
        assert_eq!(&bytes[36..40], &(-3600i32).to_le_bytes());
        assert_eq!(&bytes[40..44], &0xdead_beef_u32.to_le_bytes());
        assert_eq!(Tm::read(&bytes), value);
        let mut out = [0xffu8; TM_SIZE];
        value.write(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(TM_GMTIME_BYTES, 28 + 4);
        assert_eq!(TM_LOCALTIME_BYTES, 36 + 4);
    }

    #[test]
    fn leap_years_and_time_t() {
        assert!(is_leap_year(2000) && is_leap_year(2024) && is_leap_year(-4) && is_leap_year(0));
        assert!(
            !is_leap_year(1900) && !is_leap_year(2023) && !is_leap_year(2100) && !is_leap_year(-1)
        );
        assert_eq!(to_time_t(1_700_000_000), 1_700_000_000);
        assert_eq!(to_time_t(-1), -1);
        assert_eq!(to_time_t(i64::from(i32::MAX) + 1), i32::MIN);
        assert_eq!(to_time_t(1 << 32), 0);
    }

    #[test]
    fn utc_zone_constants() {
        assert_eq!((TZ_TIMEZONE, TZ_DAYLIGHT), (0, 0));
        assert_eq!(TZ_STD_NAME, "Coordinated Universal Time");
        assert_eq!(TZ_DST_NAME, TZ_STD_NAME);
    }
}
