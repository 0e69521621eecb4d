//! Bounds-checked little/big-endian reads over a byte slice.

use crate::thermal::ThermalError;

/// Byte order of a FLIR structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

/// A byte slice read with bounds checks that fail with [`ThermalError::Truncated`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bytes<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) what: &'static str,
    pub(crate) endian: Endian,
}

impl<'a> Bytes<'a> {
    pub(crate) fn new(data: &'a [u8], what: &'static str, endian: Endian) -> Self {
        Bytes { data, what, endian }
    }

    pub(crate) fn slice(&self, offset: usize, len: usize) -> Result<&'a [u8], ThermalError> {
        match offset.checked_add(len) {
            Some(end) if end <= self.data.len() => Ok(&self.data[offset..end]),
            _ => Err(ThermalError::Truncated {
                what: self.what,
                offset,
                needed: len,
                available: self.data.len().saturating_sub(offset),
            }),
        }
    }

    fn array<const N: usize>(&self, offset: usize) -> Result<[u8; N], ThermalError> {
        let s = self.slice(offset, N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub(crate) fn u16(&self, offset: usize) -> Result<u16, ThermalError> {
        let a = self.array::<2>(offset)?;
        Ok(match self.endian {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        })
    }

    pub(crate) fn u32(&self, offset: usize) -> Result<u32, ThermalError> {
        let a = self.array::<4>(offset)?;
        Ok(match self.endian {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        })
    }

    pub(crate) fn i32(&self, offset: usize) -> Result<i32, ThermalError> {
        let a = self.array::<4>(offset)?;
        Ok(match self.endian {
            Endian::Little => i32::from_le_bytes(a),
            Endian::Big => i32::from_be_bytes(a),
        })
    }

    pub(crate) fn f32(&self, offset: usize) -> Result<f64, ThermalError> {
        let a = self.array::<4>(offset)?;
        Ok(f64::from(match self.endian {
            Endian::Little => f32::from_le_bytes(a),
            Endian::Big => f32::from_be_bytes(a),
        }))
    }

    /// A NUL-terminated string in a fixed-size field (lossy UTF-8, trimmed); empty when the field is absent.
    pub(crate) fn string(&self, offset: usize, len: usize) -> String {
        match self.slice(offset, len) {
            Ok(s) => {
                let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
                String::from_utf8_lossy(&s[..end]).trim().to_string()
            }
            Err(_) => String::new(),
        }
    }
}

/// Reads the byte-order word that opens FLIR records: the value 2 in the record's own order.
pub(crate) fn record_endian(data: &[u8], what: &'static str) -> Result<Endian, ThermalError> {
    let b = Bytes::new(data, what, Endian::Little);
    match b.u16(0)? {
        0x0002 => Ok(Endian::Little),
        0x0200 => Ok(Endian::Big),
        other => Err(ThermalError::InvalidField { field: "record_byte_order", value: u64::from(other) }),
    }
}
