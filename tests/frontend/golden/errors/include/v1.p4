// Shared declarations for the golden error programs: the v1model
// architecture, two headers and the metadata structs.
#include "types.p4"

struct headers {
    ethernet_t ethernet;
    ipv4_t     ipv4;
}
