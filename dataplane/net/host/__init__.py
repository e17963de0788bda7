"""The host IP stack: link layer, ARP/ND, IPv4/IPv6, ICMP, UDP, reassembly, path MTU, TCP, SCTP."""
