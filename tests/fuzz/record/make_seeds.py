#!/usr/bin/env python3
# make_seeds.py: writes the hand-made seeds of fuzz_record_state into
# tests/fuzz/corpus/fuzz_record_state/ (the sim-*.pb seeds come from
# `sim_convergence --seed 1 --schedules 8 --steps 5:30 --dump-states DIR`).
# A tiny protobuf wire encoder, so no protoc or python protobuf is needed.
#   noncanonical-order.pb: a Visit state with vv entries, events and cleared
#   numbers out of order, a delete, and field 1000 unknown to every kind; the
#   decoder must accept it and return the canonical form.
#   bad-text.pb: an Account state that decodes but breaks the limits: its
#   address.city is not UTF-8 (fs_record_validate must refuse it).
import os
import struct
import sys


def varint(v):
    out = b''
    while True:
        b = v & 0x7f
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def tag(f, w): return varint(f << 3 | w)
def ld(f, b): return tag(f, 2) + varint(len(b)) + b
def vi(f, v): return tag(f, 0) + varint(v)
def f64(f, v): return tag(f, 1) + struct.pack('<Q', v)
def vv(r, c): return ld(3, f64(1, r) + vi(2, c))


def ev(r, c, hlc, alive=None, fields=None, cleared=None):
    b = f64(1, r) + vi(2, c) + f64(3, hlc)
    if alive is not None:
        b += vi(4, 1 if alive else 0)
    if fields is not None:
        b += ld(5, fields)
    if cleared:
        b += ld(6, b''.join(varint(x) for x in cleared))
    return ld(4, b)


HLC = 1790000000000 << 16
VISIT = 3
state = vi(1, VISIT) + ld(2, b'visit-0007') + vv(9, 2) + vv(3, 1)
state += ev(9, 2, HLC + 1, True, ld(12, b'Demo booked'), [13, 9])
state += ev(3, 1, HLC + 2, False)
state += ev(9, 1, HLC, None, ld(2, b'acc-0042') + ld(1000, b'\x01\x02'))

ACCOUNT = 1
bad = vi(1, ACCOUNT) + ld(2, b'acc-0001') + vv(9, 1)
bad += ev(9, 1, HLC, True, ld(2, b'Alder Foods') + ld(5, ld(3, b'Bre\xc3men')))

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), '..', 'corpus', 'fuzz_record_state')
with open(os.path.join(out, 'noncanonical-order.pb'), 'wb') as f:
    f.write(state)
with open(os.path.join(out, 'bad-text.pb'), 'wb') as f:
    f.write(bad)
