// Calls openrek with the AWS SDK for JavaScript v3, unchanged but for its endpoint, and
// prints what came back as one JSON document for tests/js_sdk/test_javascript_sdk.py.
//
//   node rekognition_calls.mjs ENDPOINT COLLECTION_ID FACE_PHOTO SAME_PERSON_PHOTO FACELESS_PHOTO [BUCKET KEY]
//
// With BUCKET and KEY (a video the server can read as an S3 object), a face detection
// job is started and its results read once it has SUCCEEDED.
//
// The steps include the calls Double Take's Rekognition detector makes (DescribeCollection,
// CreateCollection when that answers ResourceNotFoundException, IndexFaces,
// SearchFacesByImage, DeleteFaces) and the answers it reads.
//
// Credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), as
// for any SDK program. Each step records its answer or its error's name, class and status.
import { readFileSync } from "node:fs";
import {
  CreateCollectionCommand,
  DeleteCollectionCommand,
  DeleteFacesCommand,
  DescribeCollectionCommand,
  DetectLabelsCommand,
  GetFaceDetectionCommand,
  IndexFacesCommand,
  RekognitionClient,
  RekognitionServiceException,
  ResourceNotFoundException,
  SearchFacesByImageCommand,
  StartFaceDetectionCommand,
  paginateListFaces,
} from "@aws-sdk/client-rekognition";

const [endpoint, collectionId, facePhoto, samePersonPhoto, facelessPhoto, bucket, videoKey] = process.argv.slice(2);
const client = new RekognitionClient({ endpoint, region: "us-east-1", maxAttempts: 1 });
const steps = {};

function failure(error) {
  return {
    name: error.name,
    modelled: error instanceof RekognitionServiceException && error.constructor !== RekognitionServiceException,
    notFound: error instanceof ResourceNotFoundException,
    status: error.$metadata?.httpStatusCode,
    message: error.message,
  };
}

async function step(name, run) {
  try {
    steps[name] = { ok: await run() };
  } catch (error) {
    steps[name] = { error: failure(error) };
  }
}

await step("CreateCollection", () => client.send(new CreateCollectionCommand({ CollectionId: collectionId })));
await step("IndexFaces", () =>
  client.send(
    new IndexFacesCommand({
      CollectionId: collectionId,
      Image: { Bytes: readFileSync(facePhoto) },
      ExternalImageId: "first-photo",
      DetectionAttributes: ["ALL"],
    }),
  ),
);
await step("IndexFacesAgain", () =>
  client.send(new IndexFacesCommand({ CollectionId: collectionId, Image: { Bytes: readFileSync(samePersonPhoto) } })),
);
await step("SearchFacesByImage", () =>
  client.send(
    new SearchFacesByImageCommand({ CollectionId: collectionId, Image: { Bytes: readFileSync(samePersonPhoto) }, FaceMatchThreshold: 80 }),
  ),
);
await step("ListFacesPages", async () => {
  const pages = [];
  for await (const page of paginateListFaces({ client, pageSize: 1 }, { CollectionId: collectionId })) {
    pages.push(page.Faces.map((face) => face.FaceId));
  }
  return pages;
});
await step("SearchFaceless", () =>
  client.send(new SearchFacesByImageCommand({ CollectionId: collectionId, Image: { Bytes: readFileSync(facelessPhoto) } })),
);
await step("DeleteFaces", async () => {
  const first = steps.IndexFaces.ok?.FaceRecords?.[0]?.Face?.FaceId;
  return client.send(new DeleteFacesCommand({ CollectionId: collectionId, FaceIds: [first, "00000000-0000-4000-8000-000000000000"] }));
});
await step("DetectLabels", () => client.send(new DetectLabelsCommand({ Image: { Bytes: readFileSync(facePhoto) }, MaxLabels: 5 })));
await step("DescribeMissingCollection", () => client.send(new DescribeCollectionCommand({ CollectionId: `${collectionId}-missing` })));
await step("InvalidCollectionId", () => client.send(new CreateCollectionCommand({ CollectionId: "not a valid id!" })));
await step("DeleteCollection", () => client.send(new DeleteCollectionCommand({ CollectionId: collectionId })));

if (bucket) {
  await step("FaceDetectionJob", async () => {
    const { JobId } = await client.send(new StartFaceDetectionCommand({ Video: { S3Object: { Bucket: bucket, Name: videoKey } }, JobTag: "js-sdk" }));
    for (let tries = 0; tries < 600; tries++) {
      const answer = await client.send(new GetFaceDetectionCommand({ JobId, MaxResults: 1000 }));
      if (answer.JobStatus !== "IN_PROGRESS") return answer;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`job ${JobId} still IN_PROGRESS`);
  });
}

// Dates and byte arrays become JSON the way JSON.stringify writes them.
process.stdout.write(JSON.stringify(steps));
