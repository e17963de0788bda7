// a control instantiated at the top level
#include "include/before_ingress.p4"

control Nothing(inout standard_metadata_t sm) {
    apply { }
}
Nothing() nothing;

#include "include/ingress.p4"
#include "include/after_ingress.p4"
