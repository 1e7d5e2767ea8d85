#!/bin/sh
# Program behind websocketd for scripts/make-samples: three lines (three text messages),
# then it exits, and websocketd ends the WebSocket connection.
for i in 1 2 3; do
  echo "count $i"
  sleep 0.2
done
