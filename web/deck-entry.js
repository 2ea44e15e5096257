// What app_pages/map_component/map.js uses as deck.<name>, and nothing else: the bundle is 0.74 MB where the whole
// deck.gl (pydeck's copy) was 4.2 MB, parsed by every new browser session before the map could draw (issue 16).
export {Deck, MapView, WebMercatorViewport} from "@deck.gl/core";
export {GeoJsonLayer} from "@deck.gl/layers";
