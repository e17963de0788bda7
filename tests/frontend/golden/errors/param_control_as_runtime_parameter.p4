// a control passed to another control as an apply parameter, not a constructor parameter
control Stage(inout bit<8> x);
control Twice(inout bit<8> x, Stage s) {
    apply {
        s.apply(x);
        s.apply(x);
    }
}
package Pipeline(Stage s);

control AddOne(inout bit<8> x) {
    apply { x = x + 1; }
}

Pipeline(AddOne()) main;
