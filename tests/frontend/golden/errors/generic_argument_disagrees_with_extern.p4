// a generic function whose type parameter, given by an extern instance argument, disagrees with another argument
#include "include/before_ingress.p4"

void store<T>(register<T> r, in T value) {
    r.write(0, value);
}

control Flags() {
    register<bool>(1) flags;
    apply {
        store(flags, 8w2);
    }
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
