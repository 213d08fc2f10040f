/**
 * JSON schemas of the routes' query strings and path parameters (validated by fastify, and the source of
 * the OpenAPI description at /docs), and the request-body descriptions added to that document only.
 */
const num = (description: string, minimum: number, maximum: number) => ({
  type: 'number',
  minimum,
  maximum,
  description,
});

const format = {
  type: 'string',
  enum: ['json', 'csv', 'coco'],
  default: 'json',
  description: "json; csv: the lab's CSV (x_center,y_center,width,height,confidence,area); coco: COCO results",
};

export const detectQuery = {
  type: 'object',
  properties: {
    conf: num('Keep score > conf (default 0.4)', 0, 1),
    iou: num('NMS suppresses IoU > iou (default 0.45)', 0, 1),
    max_det: { type: 'integer', minimum: 1, maximum: 100000, description: 'Boxes out at most (default 1000)' },
    agnostic: { type: 'boolean', description: 'Class-agnostic NMS (default false)' },
    format,
    keep: { type: 'boolean', description: 'Keep the raw output for new settings later (default true)' },
    model: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$', description: 'Detector name (default the first)' },
    name: { type: 'string', maxLength: 256, description: 'Image name for a raw-body upload (a label only)' },
    tile: {
      type: 'string',
      pattern: '^(auto|[0-9]{1,5})$',
      description: 'Sliced inference: tile side in image pixels, or auto (default off; tiled runs keep no raw output)',
    },
    overlap: num('Tile overlap as a fraction of the tile side (default 0.2)', 0, 0.9),
    full_frame: { type: 'boolean', description: 'Also run the whole frame and merge with the tiles (default false)' },
  },
  additionalProperties: false,
} as const;

export const baselineQuery = {
  type: 'object',
  properties: {
    eps: num('DBSCAN radius, pixels (default 3)', 0, 1000),
    min_samples: { type: 'integer', minimum: 1, maximum: 100000, description: 'DBSCAN min_samples (default 2)' },
    passes: { type: 'integer', minimum: 1, maximum: 100, description: '3x3 filter passes (default 5)' },
    scale: { type: 'string', enum: ['raw', 'unit'], description: 'Pixel scale the first filter pass sees' },
    box: { type: 'string', enum: ['minmax', 'edges'], description: 'Box rule (default minmax)' },
    format,
    name: { type: 'string', maxLength: 256 },
  },
  additionalProperties: false,
} as const;

export const segmentQuery = {
  type: 'object',
  properties: {
    format: { type: 'string', enum: ['json', 'csv'], default: 'json' },
    threshold: num('Probability threshold (default the model’s, 0.5)', 0, 1),
    model: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' },
    name: { type: 'string', maxLength: 256 },
  },
  additionalProperties: false,
} as const;

export const idParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$', description: 'upload_id from /v1/detect' } },
  required: ['id'],
} as const;

/** OpenAPI `requestBody` of the image routes (documentation only: multipart is parsed by @fastify/multipart). */
export const imageBodyDoc = {
  required: true,
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        properties: {
          image: { type: 'string', format: 'binary', description: 'PNG, JPEG or TIFF (8/16-bit)' },
          conf: { type: 'number' },
          iou: { type: 'number' },
          max_det: { type: 'integer' },
          format: { type: 'string' },
        },
        required: ['image'],
      },
    },
    'image/png': { schema: { type: 'string', format: 'binary' } },
    'image/jpeg': { schema: { type: 'string', format: 'binary' } },
    'image/tiff': { schema: { type: 'string', format: 'binary' } },
    'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
  },
} as const;

/** OpenAPI `requestBody` of /invocations. */
export const invocationsBodyDoc = {
  required: true,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        description:
          'MLflow scoring-server JSON: exactly one of inputs, instances, dataframe_split, dataframe_records; ' +
          'images as base64 strings; optional params {conf, iou, max_det}',
        properties: {
          inputs: {},
          instances: { type: 'array' },
          dataframe_split: {
            type: 'object',
            properties: { columns: { type: 'array' }, data: { type: 'array' } },
          },
          dataframe_records: { type: 'array' },
          params: {
            type: 'object',
            properties: { conf: { type: 'number' }, iou: { type: 'number' }, max_det: { type: 'integer' } },
          },
        },
      },
    },
  },
} as const;
