// @p4runtime_translation with a controller type that is not bit<W>, string or a width
#include "include/before_ingress.p4"

@p4runtime_translation("example.org/v1/port_t", int<16>)
type bit<9> port_t;

#include "include/ingress.p4"
#include "include/after_ingress.p4"
