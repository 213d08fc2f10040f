#!/usr/bin/python3
"""Builds benchmarks/models/nms.onnx: a graph with one ONNX NonMaxSuppression op (the peer that
ONNX Runtime users run for NMS). Run: /usr/bin/python3 scripts/make_nms_onnx.py"""
import os
import onnx
from onnx import TensorProto, helper

node = helper.make_node('NonMaxSuppression', ['boxes', 'scores', 'max_out', 'iou', 'score'], ['selected'], center_point_box=0)
graph = helper.make_graph(
    [node], 'nms',
    [helper.make_tensor_value_info('boxes', TensorProto.FLOAT, [1, 'N', 4]),
     helper.make_tensor_value_info('scores', TensorProto.FLOAT, [1, 1, 'N']),
     helper.make_tensor_value_info('max_out', TensorProto.INT64, [1]),
     helper.make_tensor_value_info('iou', TensorProto.FLOAT, [1]),
     helper.make_tensor_value_info('score', TensorProto.FLOAT, [1])],
    [helper.make_tensor_value_info('selected', TensorProto.INT64, ['K', 3])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
model.ir_version = 8
onnx.checker.check_model(model)
out = os.path.join(os.path.dirname(__file__), '..', 'benchmarks', 'models', 'nms.onnx')
onnx.save(model, out)
print('wrote', out)
