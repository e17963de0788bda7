control MyComputeChecksum(inout headers hdr, inout metadata meta) {
    apply { }
}
