"""wire.py: just enough of the sync protocol (docs/protocol.md) to act as a
device that is not fieldsyncd: a buggy or hostile client that pushes record
states fieldsyncd would never write, straight to the real fieldsync-server.
Protobuf is encoded and decoded by hand (field numbers from
proto/fieldsync.proto), so the tests need nothing beyond python3.
"""
import urllib.error
import urllib.request

VARINT, FIXED64, LEN = 0, 1, 2
KINDS = {"account": 1, "contact": 2, "visit": 3, "opportunity": 4, "transaction": 5}


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number, wire, value):
    """One field: value is an int (varint, fixed64) or bytes (length-delimited)."""
    tag = varint(number << 3 | wire)
    if wire == VARINT:
        return tag + varint(value)
    if wire == FIXED64:
        return tag + value.to_bytes(8, "little")
    return tag + varint(len(value)) + value


def text(number, value):
    """A string field from bytes as they are (valid UTF-8 or not) or from str."""
    return field(number, LEN, value if isinstance(value, bytes) else value.encode())


def decode(buf):
    """{field number: [values]}: ints for varint/fixed, bytes for the rest."""
    out, i = {}, 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            value, i = _read_varint(buf, i)
        elif wire == FIXED64:
            value, i = int.from_bytes(buf[i:i + 8], "little"), i + 8
        elif wire == LEN:
            n, i = _read_varint(buf, i)
            value, i = buf[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wire)
        out.setdefault(number, []).append(value)
    return out


def _read_varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def write_event(replica, counter, hlc, fields):
    """A RecordState's version vector entry and event for one live write
    (RecordState fields 3 and 4): fields is the kind's wire format."""
    vv = field(1, FIXED64, replica) + field(2, VARINT, counter)
    event = (field(1, FIXED64, replica) + field(2, VARINT, counter) + field(3, FIXED64, hlc) +
             field(4, VARINT, 1) + field(5, LEN, fields))
    return field(3, LEN, vv) + field(4, LEN, event)


def record_state(kind, rid, replica, counter, hlc, fields):
    """A RecordState of one live write event: fields is the kind's wire format."""
    return field(1, VARINT, KINDS[kind]) + text(2, rid) + write_event(replica, counter, hlc,
                                                                       fields)


class Device:
    """A device enrolled with the real server, pushing hand-made states."""

    def __init__(self, url, code, name="hand-made"):
        self.url = url
        body = text(1, code) + text(2, name)
        got = decode(self.post("/v1/enroll", body, token=None))
        self.replica = got[1][0]
        self.token = got[2][0].hex()
        self.counter = 0

    def post(self, path, body, token="self"):
        headers = {"Content-Type": "application/x-protobuf", "Fieldsync-Protocol": "1"}
        if token is not None:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.url + path, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read()

    def state(self, kind, rid, fields, hlc):
        """The next write of this device to a new record."""
        self.counter += 1
        return record_state(kind, rid, self.replica, self.counter, hlc, fields)

    def push(self, states):
        """[(joined state bytes or None, refusal reason, refusal message)] per state."""
        body = b"".join(field(1, LEN, s) for s in states)
        results = decode(self.post("/v1/push", body)).get(1, [])
        out = []
        for r in results:
            r = decode(r)
            if 2 in r:
                out.append((r[2][0], 0, ""))
            else:
                refusal = decode(r[3][0])
                out.append((None, refusal.get(1, [0])[0],
                            refusal.get(2, [b""])[0].decode(errors="replace")))
        return out
