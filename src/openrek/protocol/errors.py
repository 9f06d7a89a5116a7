"""AWS-shaped errors. Each class is one error code of Rekognition's service model.

Handlers raise these; the protocol layer turns them into
`{"__type": code, "Message": ...}` with the `x-amzn-ErrorType` header, and the
in-process client turns them into botocore's `ClientError`.
"""

from __future__ import annotations


class RekognitionError(Exception):
    """Base of every error a client may see. `code` is the AWS error code."""

    code = "InternalServerError"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self, request_id: str) -> dict[str, str]:
        return {
            "__type": self.code,
            "Code": self.code,
            "Message": self.message,
            "Logref": request_id,
        }


def _error(code: str, status: int = 400) -> type[RekognitionError]:
    return type(code, (RekognitionError,), {"code": code, "status": status})


# Errors of the rekognition service model.
AccessDeniedException = _error("AccessDeniedException")
ConflictException = _error("ConflictException")
IdempotentParameterMismatchException = _error("IdempotentParameterMismatchException")
ImageTooLargeException = _error("ImageTooLargeException")
InternalServerError = _error("InternalServerError", 500)
InvalidImageFormatException = _error("InvalidImageFormatException")
InvalidPaginationTokenException = _error("InvalidPaginationTokenException")
InvalidParameterException = _error("InvalidParameterException")
InvalidS3ObjectException = _error("InvalidS3ObjectException")
LimitExceededException = _error("LimitExceededException")
ProvisionedThroughputExceededException = _error("ProvisionedThroughputExceededException")
ResourceAlreadyExistsException = _error("ResourceAlreadyExistsException")
ResourceInUseException = _error("ResourceInUseException")
ResourceNotFoundException = _error("ResourceNotFoundException")
ResourceNotReadyException = _error("ResourceNotReadyException")
ServiceQuotaExceededException = _error("ServiceQuotaExceededException")
ThrottlingException = _error("ThrottlingException", 500)
VideoTooLargeException = _error("VideoTooLargeException")

# Errors every AWS JSON service answers before an operation runs; they are not in
# the rekognition model but AWS sends them, and botocore maps them by code.
ValidationException = _error("ValidationException")
SerializationException = _error("SerializationException")
UnknownOperationException = _error("UnknownOperationException")
UnrecognizedClientException = _error("UnrecognizedClientException")
InvalidSignatureException = _error("InvalidSignatureException")
IncompleteSignatureException = _error("IncompleteSignatureException")
MissingAuthenticationTokenException = _error("MissingAuthenticationTokenException")
UnsupportedMediaTypeException = _error("UnsupportedMediaTypeException")
