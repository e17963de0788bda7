// a table without default_action while NoAction is not core.p4's action without parameters
const bit<8> NoAction = 0;

control Stage(inout bit<8> x) {
    action add_one() { x = x + 1; }
    table t {
        actions = { add_one; }
    }
    apply { t.apply(); }
}

control StageT(inout bit<8> x);
package Pipeline(StageT s);
Pipeline(Stage()) main;
