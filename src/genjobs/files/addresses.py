"""Which IP addresses genjobs may connect to on behalf of a URL someone else gave it.

Only public unicast addresses qualify. ``ipaddress.is_global`` alone is not the answer: it
calls multicast global, and it judges an IPv6 address that carries an IPv4 one (IPv4-mapped,
NAT64, 6to4, Teredo) by its IPv6 prefix, while the packets end up at the IPv4 address. So
those forms are unwrapped and the IPv4 address is judged instead, and the ranges that are not
globally reachable are listed here as well, so the answer does not depend on which Python
patch release (whose tables were corrected in 3.11.10 and 3.12.4) runs genjobs.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address

# IANA's IPv4 special-purpose ranges that are not globally reachable, plus multicast and the
# reserved class E.
_NOT_PUBLIC_V4 = tuple(
    IPv4Network(network)
    for network in (
        "0.0.0.0/8",  # "this network", with the unspecified 0.0.0.0 (connects to this host)
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, where cloud metadata services answer
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.88.99.0/24",  # the former 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, with the limited broadcast 255.255.255.255
    )
)

# Public IPv6 unicast is allocated from 2000::/3 only. Everything outside it is refused
# whole: unspecified, loopback, IPv4-compatible ::a.b.c.d (deprecated; nothing public is
# reached that way), the local-use NAT64 prefix 64:ff9b:1::/48 (where the IPv4 address sits
# depends on the operator's prefix length, so it cannot be read safely), discard-only,
# unique-local, link-local, site-local and multicast. Inside 2000::/3 these are not public:
_GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")
_NOT_PUBLIC_V6 = tuple(
    IPv6Network(network)
    for network in (
        "2001::/23",  # IETF protocol assignments: benchmarking, ORCHID, ... (Teredo is unwrapped)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
    )
)
_NAT64_WELL_KNOWN = IPv6Network("64:ff9b::/96")


def is_public_address(address: IPAddress) -> bool:
    """True when a connection to ``address`` reaches the public internet and nothing else."""
    if isinstance(address, IPv4Address):
        return _is_public_v4(address)
    embedded = embedded_ipv4(address)
    if embedded:
        return all(_is_public_v4(inner) for inner in embedded)
    return (
        address in _GLOBAL_UNICAST_V6
        and address.is_global
        and not any(address in network for network in _NOT_PUBLIC_V6)
    )


def embedded_ipv4(address: IPv6Address) -> tuple[IPv4Address, ...]:
    """The IPv4 addresses the packets to ``address`` are delivered to, when it is one of the
    forms that carry them (empty otherwise). Teredo carries two, its server and its client."""
    if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d
        return (address.ipv4_mapped,)
    if address in _NAT64_WELL_KNOWN:  # 64:ff9b::a.b.c.d, translated by a NAT64 gateway
        return (IPv4Address(int(address) & 0xFFFFFFFF),)
    if address.sixtofour is not None:  # 2002:aabb:ccdd::/48
        return (address.sixtofour,)
    if address.teredo is not None:  # 2001:0:server:flags:port:client (obfuscated)
        return address.teredo
    return ()


def _is_public_v4(address: IPv4Address) -> bool:
    return address.is_global and not any(address in network for network in _NOT_PUBLIC_V4)
