// a package parameter with a direction
control Stage(inout bit<8> x);
package Pipeline(in Stage s);

control AddOne(inout bit<8> x) {
    apply { x = x + 1; }
}

Pipeline(AddOne()) main;
