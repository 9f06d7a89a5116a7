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


# Errors of the rekognition service model.
class AccessDeniedException(RekognitionError):
    code = "AccessDeniedException"


class ConflictException(RekognitionError):
    code = "ConflictException"


class IdempotentParameterMismatchException(RekognitionError):
    code = "IdempotentParameterMismatchException"


class ImageTooLargeException(RekognitionError):
    code = "ImageTooLargeException"


class InternalServerError(RekognitionError):
    code = "InternalServerError"
    status = 500


class InvalidImageFormatException(RekognitionError):
    code = "InvalidImageFormatException"


class InvalidManifestException(RekognitionError):
    code = "InvalidManifestException"


class InvalidPaginationTokenException(RekognitionError):
    code = "InvalidPaginationTokenException"


class InvalidParameterException(RekognitionError):
    code = "InvalidParameterException"


class InvalidS3ObjectException(RekognitionError):
    code = "InvalidS3ObjectException"


class LimitExceededException(RekognitionError):
    code = "LimitExceededException"


class ProvisionedThroughputExceededException(RekognitionError):
    code = "ProvisionedThroughputExceededException"


class ResourceAlreadyExistsException(RekognitionError):
    code = "ResourceAlreadyExistsException"


class ResourceInUseException(RekognitionError):
    code = "ResourceInUseException"


class ResourceNotFoundException(RekognitionError):
    code = "ResourceNotFoundException"


class ResourceNotReadyException(RekognitionError):
    code = "ResourceNotReadyException"


class ServiceQuotaExceededException(RekognitionError):
    code = "ServiceQuotaExceededException"


class SessionNotFoundException(RekognitionError):
    code = "SessionNotFoundException"


class ThrottlingException(RekognitionError):
    code = "ThrottlingException"
    status = 500


class VideoTooLargeException(RekognitionError):
    code = "VideoTooLargeException"


# Errors every AWS JSON service answers before an operation runs; they are not in
# the rekognition model but AWS sends them, and botocore maps them by code.
class ValidationException(RekognitionError):
    code = "ValidationException"


class SerializationException(RekognitionError):
    code = "SerializationException"


class UnknownOperationException(RekognitionError):
    code = "UnknownOperationException"


class UnrecognizedClientException(RekognitionError):
    code = "UnrecognizedClientException"


class InvalidSignatureException(RekognitionError):
    code = "InvalidSignatureException"


class IncompleteSignatureException(RekognitionError):
    code = "IncompleteSignatureException"


class MissingAuthenticationTokenException(RekognitionError):
    code = "MissingAuthenticationTokenException"


class RequestTimeoutException(RekognitionError):
    """The client did not send its request in time (the body trickled or stopped)."""

    code = "RequestTimeoutException"
    status = 408


class UnsupportedMediaTypeException(RekognitionError):
    code = "UnsupportedMediaTypeException"
