"""moto's S3 server, as CI runs it, with one correction: moto 5.2 names the root of the
answers it serializes from the model `<Operation>Response` where S3 (and its
documentation) says `ListPartsResult` and `CompleteMultipartUploadResult`; boto3 ignores
the root's name, the Rust SDK refuses the answer. Every other answer is moto's own.
Arguments are moto.server's (-H host -p port)."""

import sys

from moto.core import serialize
from moto.server import main

# The operations of direct uploads whose roots moto misnames, and S3's names for them.
S3_ROOTS = {
    "ListParts": "ListPartsResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
}

_moto_answer = serialize.S3Serializer._serialized_result_to_response


def _named_as_s3_names_it(self, resp, result, shape, serialized_result):
    resp = _moto_answer(self, resp, result, shape, serialized_result)
    name = self.operation_model.name
    if name in S3_ROOTS and isinstance(resp.get("body"), str):
        resp["body"] = (
            resp["body"]
            .replace(f"<{name}Response", f"<{S3_ROOTS[name]}", 1)
            .replace(f"</{name}Response>", f"</{S3_ROOTS[name]}>", 1)
        )
    return resp


serialize.S3Serializer._serialized_result_to_response = _named_as_s3_names_it

if __name__ == "__main__":
    main(sys.argv[1:])
