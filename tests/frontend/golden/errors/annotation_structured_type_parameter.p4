// a structured annotation using a type parameter of its declaration as a value
#include "include/before_ingress.p4"

@info[size = 4 < T]
control Sized<T>(in T value) {
    apply { }
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
