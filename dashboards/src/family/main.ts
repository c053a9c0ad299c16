import { createApp } from 'vue'
import { makeI18n } from '../shared/i18n'
import Family from './Family.vue'
import './family.css'

createApp(Family).use(makeI18n()).mount('#app')
